#!/usr/bin/env bash
# tests/dist/check_docs.sh VIGY MAN_DIR BASH_COMPLETION ZSH_COMPLETION WORK_DIR
#
# The generated man pages and the bash completion against the command tree as
# `vigy --help` shows it (read independently of the generator): every command,
# nested ones too, has a page that renders without a groff warning and names
# each of its long options; the completion script completes every command, the
# subcommands of each, a command's own and the global flags, and option values;
# the zsh script parses and has, for every command, an _arguments spec naming
# each of its long options.
set -euo pipefail
vigy=$1 man_dir=$2 completion="$(realpath "$3")" zsh_completion="$(realpath "$4")" work=$5
failures=0 checks=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
check() { checks=$((checks + 1)); }

# The subcommands `vigy PATH... --help` lists (CLI11: a "Subcommands:" block).
subcommands() {
    "$vigy" "$@" --help | awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1; next } on && !/^ / { on = 0 }'
}
# The long options `vigy PATH... --help` lists.
long_options() {
    "$vigy" "$@" --help | awk '/^Options:/ { on = 1; next } on && /^ / { print } on && !/^ / { on = 0 }' |
        grep -o -- '--[a-z][a-z-]*' | sort -u
}

commands=()   # "plugins list" style paths, root first
walk() {
    commands+=("$*")
    local sub
    for sub in $(subcommands "$@"); do walk "$@" "$sub"; done
}
walk
[ "${#commands[@]}" -ge 10 ] || fail "only ${#commands[@]} commands found in --help: ${commands[*]}"

# ---- man pages ------------------------------------------------------------------
pages=0
for path in "${commands[@]}"; do
    check
    name="vigy${path:+-${path// /-}}"
    page="$man_dir/$name.1"
    if [ ! -f "$page" ]; then
        fail "no man page $page for 'vigy $path'"
        continue
    fi
    pages=$((pages + 1))
    warnings="$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)"
    [ -z "$warnings" ] || fail "$page: groff warnings: $warnings"
    rendered="$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$page" 2>/dev/null)"
    grep -q "^NAME" <<<"$rendered" || fail "$page has no NAME section"
    grep -q "$name - " <<<"$rendered" || fail "$page: NAME is not '$name - ...'"
    # shellcheck disable=SC2086
    for opt in $(long_options $path); do
        [ "$opt" = "--version" ] && [ -n "$path" ] && continue
        grep -q -- "$opt" <<<"$rendered" || fail "$page does not document $opt"
    done
done
extra="$(ls "$man_dir" | wc -l)"
[ "$extra" -eq "$pages" ] || fail "$man_dir has $extra pages for ${#commands[@]} commands (stale pages?)"
echo "man pages: $pages for ${#commands[@]} commands"

# ---- bash completion -------------------------------------------------------------
# complete WORD... : what bash offers for the last word of `WORD...`
complete_words() {
    bash --norc --noprofile -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _vigy; printf "%s\n" "${COMPREPLY[@]}"' \
        _ "$completion" "$@"
}
offers() {  # offers EXPECTED WORD... : the completion of WORD... includes EXPECTED
    local expected=$1
    shift
    check
    local got
    got="$(complete_words "$@")"
    grep -qx -- "$expected" <<<"$got" || fail "completing '$*' does not offer '$expected' (got: $(tr '\n' ' ' <<<"$got"))"
}
lacks() {
    local unexpected=$1
    shift
    check
    local got
    got="$(complete_words "$@")"
    if grep -qx -- "$unexpected" <<<"$got"; then fail "completing '$*' offers '$unexpected'"; fi
}

for path in "${commands[@]}"; do
    [ -n "$path" ] || continue
    # shellcheck disable=SC2086
    set -- $path
    last="${*: -1}"
    parents=("${@:1:$(($# - 1))}")
    offers "$last" vigy "${parents[@]}" ""                       # the command among its siblings
    offers "$last" vigy "${parents[@]}" "${last:0:2}"            # from a prefix
    for opt in $(long_options "$@"); do
        [ "$opt" = "--version" ] && continue
        offers "$opt" vigy "$@" "--"                             # its own flags (and the global ones)
    done
    offers --db vigy "$@" --d                                    # global options after a command
done
offers table vigy -o ""
offers json vigy serve --output j
lacks --help vigy --db ""                                        # a value, not a flag
mkdir -p "$work" && touch "$work/program.tatara"
( cd "$work" && offers program.tatara vigy --db "" )              # files for --db PATH
( cd "$work" && offers program.tatara vigy register pro )         # files for a FILE argument
[ "$(complete_words vigy register --every "" | wc -w)" -eq 0 ] || fail "completing --every offers words"

# ---- zsh completion -----------------------------------------------------------------
command -v zsh >/dev/null || { echo "error: zsh is not installed (scripts/setup.sh installs it)" >&2; exit 1; }
check
zsh -n "$zsh_completion" || fail "$zsh_completion does not parse"
# _arguments and _describe stubbed: each command's function prints its specs
zsh_specs() {
    zsh -f -c 'compdef() { :; }; _arguments() { print -rl -- "$@"; }; _describe() { :; }
               source "$1" && "$2"' _ "$zsh_completion" "$1"
}
for path in "${commands[@]}"; do
    fn="_vigy_cmd${path:+_${path// /_}}"
    specs="$(zsh_specs "$fn" 2>&1)" || { fail "zsh: $fn failed: $specs"; continue; }
    # shellcheck disable=SC2086
    for opt in $(long_options $path); do
        check
        grep -qF -- "$opt[" <<<"$specs" || fail "zsh: $fn has no spec for $opt"
    done
done

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
