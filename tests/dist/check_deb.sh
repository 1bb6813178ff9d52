#!/usr/bin/env bash
# tests/dist/check_deb.sh BUILD_DIR SOURCE_DIR WORK_DIR LIBDIR PYTHON3
#
# Builds the .deb packages with CPack from BUILD_DIR, checks their control data,
# runs lintian on them (failing on any error or warning not overridden, with its
# reason, in packaging/debian/lintian-overrides/), extracts them with
# `dpkg-deb -x` into a temporary root and runs the extracted vigy and libvigy
# from there (relocation: nothing of the build tree or /usr is used), and builds
# the plugin template and a C embedder against the extracted vigy-dev files.
set -euo pipefail
build=$1 src=$2 work=$3 libdir=$4 python=$5
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
# grep -q in a pipeline can end the writer with SIGPIPE (a false status under pipefail)
contains() { grep "$@" >/dev/null; }
run() { "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; echo "failed: $*" >&2; exit 1; }; }
for tool in cpack lintian dpkg-deb dpkg-shlibdeps; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed (scripts/setup.sh installs it)" >&2; exit 1; }
done

rm -rf "$work"
mkdir -p "$work"
version="$(sed -n 's/^CPACK_PACKAGE_VERSION:.*=//p' "$build/CMakeCache.txt")"
run cpack --config "$build/CPackConfig.cmake" -B "$work/packages"
arch="$(dpkg --print-architecture)"
shopt -s nullglob
debs=("$work"/packages/*.deb)
[ "${#debs[@]}" -eq 3 ] || fail "expected 3 packages, got: ${debs[*]##*/}"
deb() { echo "$work/packages/$1_"*"_$arch.deb"; }
for p in vigy libvigy1 vigy-dev; do [ -f "$(deb $p)" ] || fail "no $p package"; done

# ---- control data ----------------------------------------------------------------
field() { dpkg-deb -f "$(deb "$1")" "$2"; }
v="$(field vigy Version)"
grep -Eq '^[0-9.]+-[0-9]+$' <<<"$v" || fail "vigy version $v is not upstream-revision"
for dep in 'libc6 (>=' 'libstdc++6 (>=' 'libspdlog1.10' 'libsoci-core4.0' 'libsqlite3-0' 'adduser'; do
    field vigy Depends | contains -F "$dep" || fail "vigy does not depend on $dep: $(field vigy Depends)"
done
field libvigy1 Depends | contains -F "vigy (= $v)" || fail "libvigy1 does not depend on vigy (= $v)"
field libvigy1 Depends | contains -F "libssl3" || fail "libvigy1 lacks its shared-library dependencies (dpkg-shlibdeps)"
field vigy-dev Depends | contains -F "libvigy1 (= $v)" || fail "vigy-dev does not depend on libvigy1 (= $v)"
dpkg-deb -I "$(deb libvigy1)" shlibs | contains '^libvigy 1 libvigy1' || fail "libvigy1 has no shlibs entry"
dpkg-deb -I "$(deb vigy)" postinst | contains systemd-sysusers || fail "vigy has no postinst creating the user"

# ---- lintian -----------------------------------------------------------------------
# --fail-on warning: a warning is a failure unless overridden (with a reason) in
# the package's /usr/share/lintian/overrides file.
lintian --fail-on error,warning --info --no-tag-display-limit "${debs[@]}" >"$work/lintian.log" 2>&1 ||
    { cat "$work/lintian.log" >&2; fail "lintian"; }
echo "lintian:"
cat "$work/lintian.log"

# ---- the package contents, extracted ---------------------------------------------
root="$work/root"
for d in "${debs[@]}"; do dpkg-deb -x "$d" "$root"; done
usr="$root/usr"
for f in bin/vigy lib/vigy/plugins/vigy_lisp.so lib/vigy/app-plugins/mado_tear.so "$libdir/libvigy.so.1" \
         lib/systemd/system/vigy.service lib/sysusers.d/vigy.conf share/man/man1/vigy.1.gz \
         share/man/man1/vigy-plugins-list.1.gz share/bash-completion/completions/vigy \
         share/doc/vigy/copyright share/doc/vigy/changelog.Debian.gz share/doc/libvigy1/copyright \
         share/doc/vigy-dev/copyright include/vigy/embed.h "$libdir/cmake/vigy/vigyConfig.cmake" \
         "$libdir/pkgconfig/vigy.pc" "$libdir/libvigy.so"; do
    [ -e "$usr/$f" ] || fail "not in the packages: /usr/$f"
done
dpkg-deb -c "$(deb vigy)" | contains "usr/$libdir/libvigy" && fail "libvigy.so is in the vigy package"
dpkg-deb -c "$(deb libvigy1)" | contains 'include/' && fail "headers are in libvigy1"
grep -qx "ExecStart=/usr/bin/vigy serve --db /var/lib/vigy/vigy.db" "$usr/lib/systemd/system/vigy.service" ||
    fail "the packaged unit does not run /usr/bin/vigy"
# stripped, hardened
readelf -S "$usr/bin/vigy" | contains "\.symtab" && fail "/usr/bin/vigy is not stripped"

# ---- relocation: the extracted vigy uses the extracted plugins ------------------------
export HOME="$work/home" NO_COLOR=1
unset VIGY_PLUGIN_PATH VIGY_DB
vigy="$usr/bin/vigy"
listing="$("$vigy" plugins list -o json)" || fail "vigy plugins list failed"
for id in vigy.lisp vigy.native vigy.kv vigy.diagnostics; do
    grep -Eq "\"id\": ?\"$id\"" <<<"$listing" || fail "the extracted vigy lacks plugin $id: $listing"
done
others="$(grep -Eo '"file": ?"[^"]*"' <<<"$listing" | grep -Ev "\"file\": ?\"$usr/lib/vigy/plugins/" || true)"
[ -z "$others" ] || fail "plugins loaded from outside the extracted root: $others"
"$vigy" plugins list | tee "$work/plugins-list.txt"
[ "$("$vigy" eval -e '(+ 1 2)')" = "3" ] || fail "the extracted vigy eval -e '(+ 1 2)' does not print 3"
[ "$("$vigy" eval -e '(vigy-incr "k" 41) (vigy-incr "k")')" = "42" ] || fail "the extracted vigy does not run an extension's intrinsics"

# systemd-analyze verify the packaged unit, its ExecStart pointed at the extracted
# binary (the unit is not relocatable: it names /usr/bin/vigy)
command -v systemd-analyze >/dev/null || { echo "error: systemd-analyze is not installed (apt-get install systemd)" >&2; exit 1; }
mkdir -p "$work/unit"
sed "s|^ExecStart=/usr/bin/vigy |ExecStart=$usr/bin/vigy |" "$usr/lib/systemd/system/vigy.service" >"$work/unit/vigy.service"
if ! MANPATH="$usr/share/man" systemd-analyze verify "$work/unit/vigy.service" >"$work/verify.log" 2>&1 ||
    [ -s "$work/verify.log" ]; then
    cat "$work/verify.log" >&2
    fail "systemd-analyze verify of the packaged unit"
fi

# the service user: what the postinst runs (systemd-sysusers vigy.conf), in the root
for s in postinst prerm postrm; do
    dpkg-deb --ctrl-tarfile "$(deb vigy)" | tar -xO "./$s" >"$work/$s"
    sh -n "$work/$s" || fail "the $s script does not parse"
done
mkdir -p "$root/etc"
systemd-sysusers --root="$root" vigy.conf >"$work/sysusers.log" 2>&1 || { cat "$work/sysusers.log" >&2; fail "systemd-sysusers"; }
grep -Eq '^vigy:x:[0-9]+:[0-9]+:vigy reconciler runtime:/var/lib/vigy:/usr/sbin/nologin$' "$root/etc/passwd" ||
    fail "systemd-sysusers did not create the vigy user: $(cat "$root/etc/passwd" 2>/dev/null)"
grep -q '^vigy:' "$root/etc/group" || fail "systemd-sysusers did not create the vigy group"

# ---- the extracted vigy-dev: plugin template, C via pkg-config, Python via the library
run cmake -S "$usr/share/doc/vigy/examples/plugin-template" -B "$work/template" -DCMAKE_PREFIX_PATH="$usr"
run cmake --build "$work/template"
run ctest --test-dir "$work/template" --output-on-failure
grep -q "$usr/$libdir/cmake/vigy" "$work/template/CMakeCache.txt" || fail "the template did not use the extracted vigy-dev"

export PKG_CONFIG_PATH="$usr/$libdir/pkgconfig"
cflags="$(pkg-config --cflags vigy)" libs="$(pkg-config --libs vigy)"
# shellcheck disable=SC2086
run cc -std=c11 -Wall -Wextra -Wpedantic -Werror "$usr/share/doc/vigy/examples/embed-c/embed.c" $cflags $libs \
    -lpthread -o "$work/embed-c"
out="$(LD_LIBRARY_PATH="$usr/$libdir" "$work/embed-c" "$work/embed-c.db" 1)" || fail "embed-c: $out"
grep -q '"desired":{"greeting":"hello from C"}' <<<"$out" || fail "embed-c saw no run: $out"

"$python" "$usr/share/doc/vigy/examples/embed-c/embed.py" --lib "$usr/$libdir/libvigy.so.1" \
    --expect-plugin-dir "$usr/lib/vigy/plugins" >"$work/python.log" 2>&1 ||
    { cat "$work/python.log" >&2; fail "embed.py against the extracted libvigy"; }

if [ "$failures" -ne 0 ]; then
    echo "$failures failed"
    exit 1
fi
echo "packages ${debs[*]##*/}: 0 failed"
