#!/usr/bin/env bash
# The build graph does not depend on which files happen to exist: for each FILE,
# a clean checkout of HEAD without that one file must fail to configure or to
# build TARGET, and the failure must name the file.
#   scripts/deletion-trial.sh [--target T] FILE...
# FILE is a path relative to the repository root. TARGET (default: all) is what
# is built when configuring succeeds (a deleted header or stdlib file fails at
# build time, a deleted source at configure time). Exit 0 when every deletion
# broke the build, 1 when one did not (it is named), 2 for a usage error.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=all
[[ "${1:-}" == "--target" ]] && { target=$2; shift 2; }
[[ $# -gt 0 ]] || { sed -n '2,10p' "$0" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/vigy-deletion.XXXXXX")
trap 'git -C "$root" worktree remove --force "$work/tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$root" worktree add --detach "$work/tree" HEAD >/dev/null 2>&1
bad=0
for f in "$@"; do
    [[ -f "$work/tree/$f" ]] || { echo "deletion-trial: $f is not a file of HEAD" >&2; exit 2; }
    git -C "$work/tree" checkout -q -- .
    rm "$work/tree/$f"
    rm -rf "$work/build"
    log="$work/log"
    stage=configure
    if cmake -S "$work/tree" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DVIGY_USE_CCACHE=OFF >"$log" 2>&1; then
        stage=build
        if cmake --build "$work/build" --target "$target" -j "$(nproc)" >>"$log" 2>&1; then
            echo "NOT BROKEN: without $f the tree still configures and builds $target" >&2
            bad=1
            continue
        fi
    fi
    name=$(basename "$f")
    if grep -q -- "$name" "$log"; then
        why=$(grep -m1 -E "Cannot find source|No rule to make|fatal error|No such file|not found" "$log" || grep -m1 -- "$name" "$log")
        echo "ok: without $f the $stage fails: $(sed 's/^ *//' <<<"$why" | cut -c1-200)"
    else
        echo "NOT NAMED: without $f the $stage fails, but the output does not name $name" >&2
        tail -5 "$log" >&2
        bad=1
    fi
done
exit $bad
