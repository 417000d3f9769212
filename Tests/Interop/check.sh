#!/bin/bash
# check.sh RUN_DIR CERT_DIR
#
# Smoke test of the instances start.sh runs from RUN_DIR, with real clients:
#  - openssl s_client (-starttls PROTO for starttls ports) and gnutls-cli
#    (--starttls-proto) hand-shake with every service, and each must see
#    exactly CERT_DIR/chain.pem (same certificates, same order, nothing added);
#  - curl --ssl-reqd LISTs over FTP (explicit and implicit): the TLS data
#    channel must resume the control session (vsftpd require_ssl_reuse), and
#    curl --no-sessionid must be refused (522) to show the reuse is enforced,
#    and a clear data channel (curl --ftp-ssl-control, no PROT P) too;
#  - curl -k GETs the HTTPS page; ldapsearch reads the RootDSE anonymously
#    over StartTLS (-ZZ) and LDAPS.
# One PASS/FAIL line per check, then "N passed, N failed"; exits 1 on any failure.
set -u
HERE=$(cd "$(dirname "$0")" && pwd -P)
. "$HERE/lib.sh"
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

[ $# -eq 2 ] || { echo "usage: $0 RUN_DIR CERT_DIR" >&2; exit 2; }
RUN=$1 CERT=$2
[ -s "$RUN/services.txt" ] || { say "no $RUN/services.txt: was start.sh run?"; exit 1; }
[ -r "$CERT/chain.pem" ] || { say "missing $CERT/chain.pem"; exit 1; }
: "${INTEROP_CLIENT_TIMEOUT:=20}"
T=${INTEROP_CLIENT_TIMEOUT}

TMP=$(mktemp -d /tmp/interop-check.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0
pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

# fingerprints FILE: SHA-256 fingerprint of every PEM certificate in FILE, in order.
fingerprints() {
    local n
    rm -f "$TMP"/fp.*
    awk -v out="$TMP/fp." '
        /-----BEGIN CERTIFICATE-----/ { n++; f = sprintf("%s%03d", out, n); inside = 1 }
        inside { print > f }
        /-----END CERTIFICATE-----/ { inside = 0; close(f) }' "$1"
    for n in "$TMP"/fp.*; do
        [ -e "$n" ] || continue
        openssl x509 -in "$n" -noout -fingerprint -sha256 | sed 's/.*=//'
    done
}

expected=$(fingerprints "$CERT/chain.pem")
nexp=$(echo "$expected" | grep -c .)
[ "$nexp" -ge 1 ] || { say "$CERT/chain.pem holds no certificate"; exit 1; }

# compare_chain LABEL OUTPUT_FILE
compare_chain() {
    local label=$1 out=$2 got ngot
    got=$(fingerprints "$out")
    ngot=$(echo "$got" | grep -c .)
    if [ "$got" = "$expected" ]; then
        pass "$label: handshake ok, chain matches ($ngot of $nexp certificates, in order)"
    else
        local keep=$RUN/check-$(echo "$label" | tr ' /' '__').out
        cp "$out" "$keep" 2>/dev/null || keep=$out
        fail "$label: served $ngot certificate(s), expected $nexp from chain.pem in order (client output: $keep)"
    fi
}

check_openssl() {
    local name=$1 port=$2 mode=$3 out=$TMP/openssl.$name.$port
    local args=(-connect "127.0.0.1:$port" -showcerts -servername mail.example.test)
    [ "$mode" = starttls ] && args+=(-starttls "$name")
    timeout "$T" openssl s_client "${args[@]}" </dev/null >"$out" 2>&1
    if ! grep -q '^New, TLS' "$out" || grep -q 'Cipher is (NONE)' "$out"; then
        fail "$name $port $mode openssl: no TLS handshake"
        sed 's/^/    /' "$out" | tail -n 8
        return
    fi
    compare_chain "$name $port $mode openssl" "$out"
}

check_gnutls() {
    local name=$1 port=$2 mode=$3 out=$TMP/gnutls.$name.$port
    local args=(--insecure --print-cert -p "$port")
    [ "$mode" = starttls ] && args+=(--starttls-proto="$name")
    timeout "$T" gnutls-cli "${args[@]}" 127.0.0.1 </dev/null >"$out" 2>&1
    if ! grep -q 'Handshake was completed' "$out"; then
        fail "$name $port $mode gnutls-cli: no TLS handshake"
        sed 's/^/    /' "$out" | tail -n 8
        return
    fi
    compare_chain "$name $port $mode gnutls-cli" "$out"
}

check_ftp() {
    local port=$1 mode=$2 url out=$TMP/curl.ftp.$port
    if [ "$mode" = starttls ]; then url=ftp://127.0.0.1:$port/; else url=ftps://127.0.0.1:$port/; fi
    if timeout "$T" curl -sS -k --ssl-reqd --max-time "$T" -u anonymous:probe@example.test \
            "$url" >"$out" 2>&1 && grep -q 'readme.txt' "$out"; then
        pass "ftp $port $mode curl: LIST over the TLS data channel (session resumed)"
    else
        fail "ftp $port $mode curl: LIST failed: $(tr '\n' ' ' <"$out")"
    fi
    if timeout "$T" curl -sS -k --ssl-reqd --no-sessionid --max-time "$T" \
            -u anonymous:probe@example.test "$url" >"$out" 2>&1; then
        fail "ftp $port $mode curl --no-sessionid: LIST succeeded, session reuse not enforced"
    elif grep -q '522' "$out"; then
        pass "ftp $port $mode curl --no-sessionid: refused with 522 (reuse required)"
    else
        fail "ftp $port $mode curl --no-sessionid: failed, but not with 522: $(tr '\n' ' ' <"$out")"
    fi
    [ "$mode" = starttls ] || return 0
    # TLS on the control channel only (no PROT P): the clear data channel must be refused.
    if timeout "$T" curl -sS -k --ftp-ssl-control --max-time "$T" \
            -u anonymous:probe@example.test "$url" >"$out" 2>&1; then
        fail "ftp $port $mode curl --ftp-ssl-control: LIST over a clear data channel succeeded"
    elif grep -q '522' "$out"; then
        pass "ftp $port $mode curl --ftp-ssl-control: clear data channel refused with 522"
    else
        fail "ftp $port $mode curl --ftp-ssl-control: failed, but not with 522: $(tr '\n' ' ' <"$out")"
    fi
}

check_https() {
    local port=$1 out=$TMP/curl.https.$port
    if timeout "$T" curl -sS -k --max-time "$T" "https://127.0.0.1:$port/" >"$out" 2>&1 \
            && grep -q 'mimic interop' "$out"; then
        pass "https $port implicit curl: GET / ok"
    else
        fail "https $port implicit curl: $(tr '\n' ' ' <"$out")"
    fi
}

check_ldap() {
    local port=$1 mode=$2 out=$TMP/ldap.$port args
    if [ "$mode" = starttls ]; then args=(-H "ldap://127.0.0.1:$port" -ZZ)
    else args=(-H "ldaps://127.0.0.1:$port"); fi
    if LDAPTLS_REQCERT=never timeout "$T" ldapsearch -x -o nettimeout="$T" "${args[@]}" \
            -b "" -s base supportedExtension >"$out" 2>&1 \
            && grep -q '^result: 0 Success' "$out" && grep -q '^dn:' "$out"; then
        pass "ldap $port $mode ldapsearch: anonymous RootDSE read"
    else
        fail "ldap $port $mode ldapsearch: $(tr '\n' ' ' <"$out" | cut -c1-300)"
    fi
}

while read -r name port mode; do
    [ -n "$name" ] || continue
    check_openssl "$name" "$port" "$mode"
    check_gnutls "$name" "$port" "$mode"
    case $name in
        ftp) check_ftp "$port" "$mode" ;;
        https) check_https "$port" ;;
        ldap) check_ldap "$port" "$mode" ;;
    esac
done <"$RUN/services.txt"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
