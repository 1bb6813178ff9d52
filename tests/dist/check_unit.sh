#!/usr/bin/env bash
# tests/dist/check_unit.sh BUILD_DIR WORK_DIR
#
# Installs the runtime component (the vigy package's files) into a prefix and
# runs `systemd-analyze verify` on the installed vigy.service: the unit parses,
# every setting is known to this systemd, ExecStart names an executable that
# exists and the man pages of Documentation= are installed. Any diagnostic fails.
# `systemd-analyze security` must rate the sandbox "OK" or better (exposure < 2).
set -euo pipefail
build=$1 work=$2
command -v systemd-analyze >/dev/null ||
    { echo "error: systemd-analyze is not installed (apt-get install systemd; scripts/setup.sh does)" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" --component runtime >"$work/install.log"
unit="$work/prefix/lib/systemd/system/vigy.service"
grep -qx "ExecStart=$work/prefix/bin/vigy serve --db /var/lib/vigy/vigy.db" "$unit" ||
    { echo "FAIL: ExecStart does not name the installed binary: $(grep ExecStart "$unit")" >&2; exit 1; }
# Documentation=man:vigy-serve(1) is checked by running man: use the installed pages.
if ! MANPATH="$work/prefix/share/man" systemd-analyze verify "$unit" >"$work/verify.log" 2>&1 || [ -s "$work/verify.log" ]; then
    cat "$work/verify.log" >&2
    echo "FAIL: systemd-analyze verify $unit" >&2
    exit 1
fi
systemd-analyze security --offline=true --threshold=20 "$unit" >"$work/security.log" 2>&1 || true
exposure="$(sed -n 's/.*Overall exposure level for vigy.service: \([0-9.]*\).*/\1/p' "$work/security.log")"
echo "systemd-analyze verify: clean; security exposure: ${exposure:-?}"
awk -v e="${exposure:-99}" 'BEGIN { exit !(e < 2.0) }' ||
    { cat "$work/security.log" >&2; echo "FAIL: exposure ${exposure:-?} is not below 2.0" >&2; exit 1; }
echo "unit: 0 failed"
