#!/usr/bin/env bash
# Throwaway certificates for the TLS tests, made with the openssl command at test time:
#   make_test_certs.sh DIR
# DIR/ca.pem            the test CA (trust this one)
# DIR/server.pem/.key   localhost, 127.0.0.1 and ::1, signed by the CA, valid now
# DIR/other.pem/.key    other.test (a second name for SNI), signed by the CA
# DIR/expired.pem/.key  localhost and 127.0.0.1, signed by the CA, expired in 2020
# DIR/wrongname.pem/.key  wrong.example only, signed by the CA
# DIR/selfsigned.pem/.key localhost, 127.0.0.1, signed by nobody we trust
# DIR/client.pem/.key   a client certificate signed by the CA
# Idempotent: an existing DIR/ca.pem means the set is there.
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
[[ -f ca.pem && -f client.key ]] && exit 0

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/CN=aerie test CA" -keyout ca.key -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  2>/dev/null

# openssl ca (not x509 -req) so the expired certificate can have dates in the past.
mkdir -p ca.db
: > ca.db/index.txt
echo 1000 > ca.db/serial
cat > ca.cnf <<CNF
[ca]
default_ca = test
[test]
dir = .
database = ca.db/index.txt
serial = ca.db/serial
new_certs_dir = ca.db
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = copy
[anything]
commonName = supplied
CNF

issue() {  # name subject-CN SAN [startdate enddate] [self]
  local name=$1 cn=$2 san=$3 start=${4:-} end=${5:-}
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
    -addext "subjectAltName=$san" -keyout "$name.key" -out "$name.csr" 2>/dev/null
  local dates=(-days 30)
  [[ -n $start ]] && dates=(-startdate "$start" -enddate "$end")
  openssl ca -batch -config ca.cnf "${dates[@]}" -in "$name.csr" -out "$name.pem" \
    -notext 2>/dev/null
  rm -f "$name.csr"
}

issue server localhost "DNS:localhost,IP:127.0.0.1,IP:::1"
issue other other.test "DNS:other.test"
issue expired localhost "DNS:localhost,IP:127.0.0.1" 20200101000000Z 20200201000000Z
issue wrongname wrong.example "DNS:wrong.example"
issue client "aerie test client" "DNS:client.test"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout selfsigned.key -out selfsigned.pem 2>/dev/null
