#!/bin/bash
# selftest.sh [BASE_PORT]
#
# End to end check of the harness itself: install the servers, mint test
# chains (RSA root -> intermediate -> leaf, served as leaf+intermediate and as
# the leaf alone; and an EC leaf+intermediate), then for each chain
# start.sh, check.sh, stop.sh on the SAME run dir and ports (so every round
# after the first is a restart), stop.sh once more (must be a no-op), and
# finally make sure nothing listens on the harness's ports.
set -u
HERE=$(cd "$(dirname "$0")" && pwd -P)
. "$HERE/lib.sh"
BASE=${1:-24000}

"$HERE/install.sh" || exit 1

WORK=$(mktemp -d /tmp/interop-selftest.XXXXXX) || exit 1
chmod 755 "$WORK"
RUN=$WORK/run
cleanup() { "$HERE/stop.sh" "$RUN" >/dev/null 2>&1; rm -rf "$WORK"; }
trap cleanup EXIT

"$HERE/make-test-certs.sh" "$WORK/rsa" rsa >/dev/null || { say "minting RSA chains failed"; exit 1; }
"$HERE/make-test-certs.sh" "$WORK/ec" ec >/dev/null || { say "minting EC chains failed"; exit 1; }

passed=0 failed=0
step() {    # step LABEL COMMAND...
    local label=$1; shift
    if "$@"; then echo "PASS selftest: $label"; passed=$((passed + 1))
    else echo "FAIL selftest: $label"; failed=$((failed + 1)); fi
}

for certs in rsa/full rsa/leaf-only ec/full; do
    if step "start $certs" "$HERE/start.sh" "$WORK/$certs" "$RUN" "$BASE"; then
        step "check $certs" "$HERE/check.sh" "$RUN" "$WORK/$certs"
    fi
    step "stop $certs" "$HERE/stop.sh" "$RUN"
    step "stop again $certs" "$HERE/stop.sh" "$RUN"
done

nothing_listens() {
    local off open=""
    for off in $(seq 0 $((INTEROP_SPAN - 1))); do
        port_open $((BASE + off)) && open="$open $((BASE + off))"
    done
    [ -z "$open" ] || { say "still listening:$open"; ss -ltnp | grep -F "127.0.0.1:" >&2; return 1; }
}
step "nothing listens on 127.0.0.1:$BASE..$((BASE + INTEROP_SPAN - 1))" nothing_listens

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
