#!/bin/bash
# make-test-certs.sh OUT_DIR [rsa|ec]
#
# Mints a root CA -> intermediate -> leaf (mail.example.test, 127.0.0.1) with
# the openssl CLI and lays out two CERT_DIRs for start.sh:
#   OUT_DIR/full/       chain.pem = leaf + intermediate, leaf.key (PKCS#8)
#   OUT_DIR/leaf-only/  chain.pem = leaf alone (missing intermediate), leaf.key
# plus OUT_DIR/root.pem and OUT_DIR/intermediate.pem for verification.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 OUT_DIR [rsa|ec]" >&2; exit 2; }
OUT=$1 ALG=${2:-rsa}
mkdir -p "$OUT/work" "$OUT/full" "$OUT/leaf-only"
W=$OUT/work

newkey() {
    if [ "$ALG" = ec ]; then
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
    else
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
    fi
}

cat >"$W/ext.cnf" <<'CNF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[inter]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:mail.example.test, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF

newkey "$W/root.key"
openssl req -x509 -new -key "$W/root.key" -subj "/CN=Mimic Interop Root" -days 30 \
    -config "$W/ext.cnf" -extensions ca -out "$OUT/root.pem"

newkey "$W/inter.key"
openssl req -new -config "$W/ext.cnf" -key "$W/inter.key" -subj "/CN=Mimic Interop Intermediate" -out "$W/inter.csr"
openssl x509 -req -in "$W/inter.csr" -CA "$OUT/root.pem" -CAkey "$W/root.key" -CAcreateserial \
    -days 30 -extfile "$W/ext.cnf" -extensions inter -out "$OUT/intermediate.pem" 2>/dev/null

newkey "$W/leaf.key"
openssl req -new -config "$W/ext.cnf" -key "$W/leaf.key" -subj "/CN=mail.example.test" -out "$W/leaf.csr"
openssl x509 -req -in "$W/leaf.csr" -CA "$OUT/intermediate.pem" -CAkey "$W/inter.key" \
    -CAcreateserial -days 30 -extfile "$W/ext.cnf" -extensions leaf -out "$W/leaf.pem" 2>/dev/null

for d in full leaf-only; do
    openssl pkcs8 -topk8 -nocrypt -in "$W/leaf.key" -out "$OUT/$d/leaf.key"
done
cat "$W/leaf.pem" "$OUT/intermediate.pem" >"$OUT/full/chain.pem"
cp "$W/leaf.pem" "$OUT/leaf-only/chain.pem"
openssl verify -CAfile "$OUT/root.pem" -untrusted "$OUT/intermediate.pem" "$W/leaf.pem" >/dev/null
echo "$OUT/full $OUT/leaf-only"
