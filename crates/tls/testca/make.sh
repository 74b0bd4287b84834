#!/usr/bin/env bash
# Regenerates the atconform test PKI with the openssl CLI. TEST MATERIAL ONLY: the private keys
# are public (they are in this repository), so nothing signed by this CA may ever be trusted
# outside a test. Fixed validity 2020-01-01 .. 2120-01-01, so module clocks from the date of
# 000 (2020-07-29) to far in the future all accept them.
#   ca.pem / ca.key          the "atconform test CA" that signs the sink's certificates
#   module.pem / module.key  a client certificate for AT+QSSLCFG="clientcert"/"clientkey" (seclevel 2)
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/ca.cnf" <<'CNF'
[ ca ]
default_ca = test
[ test ]
dir = WORK
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[ any ]
commonName = supplied
organizationName = optional
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_module ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
sed -i "s|WORK|$work|" "$work/ca.cnf"
touch "$work/index.txt"
echo 1000 > "$work/serial"
openssl genrsa -out ca.key 2048 2>/dev/null
openssl req -new -key ca.key -subj "/O=atconform/CN=atconform test CA (test only, key is public)" -out "$work/ca.csr"
openssl ca -batch -config "$work/ca.cnf" -selfsign -keyfile ca.key -in "$work/ca.csr" \
  -startdate 20200101000000Z -enddate 21200101000000Z -extensions v3_ca -notext -out ca.pem 2>/dev/null
openssl genrsa -out module.key 2048 2>/dev/null
openssl req -new -key module.key -subj "/O=atconform/CN=atconform test module" -out "$work/module.csr"
openssl ca -batch -config "$work/ca.cnf" -cert ca.pem -keyfile ca.key -in "$work/module.csr" \
  -startdate 20200101000000Z -enddate 21200101000000Z -extensions v3_module -notext -out module.pem 2>/dev/null
# Scenarios upload these with AT+QFUPL (@data file(...)); a test keeps the copies identical.
cp ca.pem ../../../scenarios/data/atconform-test-ca.pem
cp module.pem ../../../scenarios/data/atconform-test-module.pem
cp module.key ../../../scenarios/data/atconform-test-module.key
