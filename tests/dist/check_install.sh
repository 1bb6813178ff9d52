#!/usr/bin/env bash
# tests/dist/check_install.sh BUILD_DIR SOURCE_DIR WORK_DIR LIBDIR
#
# `cmake --install` into a prefix, then moves the prefix elsewhere (relocation)
# and checks the tree the way a user meets it: the FHS layout, the installed vigy
# finding its built-in plugins beside itself (and not the application plugins),
# the systemd unit naming the installed binary and passing systemd-analyze verify,
# and the plugin template and the C embedding example built against the
# installed CMake package and run.
set -euo pipefail
build=$1 src=$2 work=$3 libdir=$4
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
# grep -q in a pipeline can end the writer with SIGPIPE (a false status under pipefail)
contains() { grep "$@" >/dev/null; }
run() { "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; echo "failed: $*" >&2; exit 1; }; }

rm -rf "$work"
mkdir -p "$work"
staged="$work/staged"
run cmake --install "$build" --prefix "$staged"
# the prefix moves after installation: nothing may depend on where it was installed
prefix="$work/moved/prefix"
mkdir -p "$work/moved"
mv "$staged" "$prefix"

# ---- the layout ------------------------------------------------------------------
for f in bin/vigy lib/vigy/plugins/vigy_lisp.so lib/vigy/plugins/vigy_native.so lib/vigy/plugins/vigy_ext_kv.so \
         lib/vigy/app-plugins/mado_tear.so "$libdir/libvigy.so.1" "$libdir/libvigy.so" \
         include/vigy/plugin.h include/vigy/sdk.hpp include/vigy/embed.h \
         "$libdir/cmake/vigy/vigyConfig.cmake" "$libdir/cmake/vigy/vigy-embed-targets.cmake" \
         "$libdir/pkgconfig/vigy.pc" lib/systemd/system/vigy.service lib/sysusers.d/vigy.conf \
         share/man/man1/vigy.1.gz share/man/man1/vigy-serve.1.gz share/bash-completion/completions/vigy \
         share/zsh/vendor-completions/_vigy share/doc/vigy/install.md share/doc/vigy/embedding.md \
         share/doc/vigy/examples/hello-vigy.tatara share/doc/vigy/examples/plugin-template/CMakeLists.txt \
         share/doc/vigy/examples/embed-c/embed.py; do
    [ -e "$prefix/$f" ] || fail "not installed: $f"
done
[ ! -e "$prefix/lib/vigy/plugins/mado_tear.so" ] || fail "the application plugin mado_tear.so is in the built-in directory"
# Debian-only files are installed by CPack, not by a plain cmake --install
[ ! -e "$prefix/share/lintian" ] || fail "lintian overrides installed outside a package"

# ---- the relocated binary finds its own plugins ---------------------------------
export HOME="$work/home" NO_COLOR=1
unset VIGY_PLUGIN_PATH VIGY_DB
vigy="$prefix/bin/vigy"
listing="$("$vigy" plugins list -o json)"
for id in vigy.lisp vigy.native vigy.actions vigy.state vigy.kv vigy.convergence vigy.scheduling vigy.diagnostics; do
    grep -Eq "\"id\": ?\"$id\"" <<<"$listing" || fail "vigy plugins list lacks $id: $listing"
done
if grep -Eq '"file": ?"' <<<"$listing"; then
    others="$(grep -Eo '"file": ?"[^"]*"' <<<"$listing" | grep -Ev "\"file\": ?\"$prefix/lib/vigy/plugins/" || true)"
    [ -z "$others" ] || fail "plugins loaded from outside the relocated prefix: $others"
fi
grep -q io.pleme.mado <<<"$listing" && fail "the application plugin is loaded without --plugin-dir"
"$vigy" plugins list --plugin-dir "$prefix/lib/vigy/app-plugins" | contains io.pleme.mado ||
    fail "the application plugin does not load with --plugin-dir"
[ "$("$vigy" eval -e '(+ 1 2)')" = "3" ] || fail "vigy eval -e '(+ 1 2)' does not print 3"

# ---- the unit names the installed binary ------------------------------------------
grep -qx "ExecStart=$staged/bin/vigy serve --db /var/lib/vigy/vigy.db" "$prefix/lib/systemd/system/vigy.service" ||
    fail "ExecStart does not name the installed binary: $(grep ExecStart "$prefix/lib/systemd/system/vigy.service")"

# ---- plugin template and C embedder against the installed package ------------------
run cmake -S "$prefix/share/doc/vigy/examples/plugin-template" -B "$work/template" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
run cmake --build "$work/template"
run ctest --test-dir "$work/template" --output-on-failure
[ "$(nm -D --defined-only "$work/template/plugins/greet.so" | awk '{print $3}')" = "vigy_plugin_entry" ] ||
    fail "greet.so exports more than vigy_plugin_entry"
"$vigy" eval --plugin-dir "$work/template/plugins" --allow com.example.greet -e '(greet-hello "installed")' | contains -x '"hello, installed!"' ||
    fail "the template's intrinsic does not run in the installed vigy"

run cmake -S "$prefix/share/doc/vigy/examples/embed-c" -B "$work/embed-c" -DCMAKE_PREFIX_PATH="$prefix"
run cmake --build "$work/embed-c"
out="$("$work/embed-c/embed-c" "$work/embed-c.db" 1)" || fail "embed-c failed: $out"
grep -q '"desired":{"greeting":"hello from C"}' <<<"$out" || fail "embed-c saw no run of its vigy: $out"

if [ "$failures" -ne 0 ]; then
    echo "$failures failed"
    exit 1
fi
echo "install tree at $prefix: 0 failed"
