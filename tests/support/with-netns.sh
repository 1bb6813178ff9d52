#!/usr/bin/env bash
# tests/support/with-netns.sh CMD [ARGS...] — runs CMD with a network namespace and a veth
# pair to it, for partition tests: namespace vigy-part-PID, its end 10.213.N.2/30, this
# side 10.213.N.1/30 (N from the PID), both up. Exports VIGY_TEST_NETNS (the namespace),
# VIGY_TEST_NETNS_LINK (this side's interface: `ip link set ... down` cuts the namespace
# off), VIGY_TEST_PG_LISTEN (10.213.N.1: with-postgres.sh also listens there) and
# VIGY_TEST_PG_HBA (10.213.N.0/30: with-postgres.sh trusts it). Everything is removed at
# exit. Fails (exit 2) when namespaces cannot be made (not root, no CAP_NET_ADMIN, no
# iproute2): a partition test never passes without them.
set -euo pipefail
if ! command -v ip >/dev/null; then
  echo "with-netns.sh: iproute2 (ip) is not installed: a partition test needs it" >&2
  exit 2
fi
n=$(( $$ % 250 + 1 ))
ns="vigy-part-$$"
host_if="vp$$h"
ns_if="vp$$n"
cleanup() {
  ip link del "$host_if" >/dev/null 2>&1 || true
  ip netns del "$ns" >/dev/null 2>&1 || true
}
trap cleanup EXIT
fail() {
  echo "with-netns.sh: $* (a partition test needs root or CAP_NET_ADMIN and network namespaces)" >&2
  exit 2
}
ip netns add "$ns" || fail "ip netns add $ns failed"
ip link add "$host_if" type veth peer name "$ns_if" || fail "ip link add (veth) failed"
ip link set "$ns_if" netns "$ns" || fail "moving $ns_if into $ns failed"
ip addr add "10.213.$n.1/30" dev "$host_if" || fail "ip addr add on $host_if failed"
ip link set "$host_if" up || fail "ip link set $host_if up failed"
ip netns exec "$ns" ip addr add "10.213.$n.2/30" dev "$ns_if" || fail "ip addr add in $ns failed"
ip netns exec "$ns" ip link set "$ns_if" up || fail "ip link set $ns_if up failed"
ip netns exec "$ns" ip link set lo up || fail "ip link set lo up in $ns failed"
export VIGY_TEST_NETNS="$ns" VIGY_TEST_NETNS_LINK="$host_if" VIGY_TEST_PG_LISTEN="10.213.$n.1" \
  VIGY_TEST_PG_HBA="10.213.$n.0/30"
"$@"
