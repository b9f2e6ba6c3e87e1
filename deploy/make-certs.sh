#!/usr/bin/env bash
# Makes a throw-away task-force CA and one certificate per agency, for demos
# and tests. Never use these for real data: the CA key sits beside the certs.
#
# Usage: deploy/make-certs.sh OUT_DIR AGENCY_ID...
# Writes OUT_DIR/ca.crt, OUT_DIR/ca.key and, per agency,
# OUT_DIR/<agency>/node.crt and node.key (mode 0600). Each certificate names
# the agency id as its common name and subjectAltName (plus localhost and
# 127.0.0.1, since the demo runs on one machine), valid for client and server
# authentication.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 OUT_DIR AGENCY_ID..." >&2
  exit 2
fi
out="$1"; shift
mkdir -p "$out"
umask 077

if [ ! -f "$out/ca.crt" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$out/ca.key" -out "$out/ca.crt" -days 30 \
    -subj "/O=Haven demo task force/CN=Haven demo task-force CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  chmod 644 "$out/ca.crt"
fi

for agency in "$@"; do
  dir="$out/$agency"
  mkdir -p "$dir"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/node.key" -out "$dir/node.csr" \
    -subj "/O=Haven demo task force/CN=$agency" 2>/dev/null
  cat > "$dir/ext.cnf" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:$agency,DNS:localhost,IP:127.0.0.1
EXT
  openssl x509 -req -in "$dir/node.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
    -CAcreateserial -days 30 -sha256 -extfile "$dir/ext.cnf" \
    -out "$dir/node.crt" 2>/dev/null
  rm -f "$dir/node.csr" "$dir/ext.cnf"
  chmod 600 "$dir/node.key"
  chmod 644 "$dir/node.crt"
done
