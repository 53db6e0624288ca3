#!/bin/sh
# EF.SOD from "other issuers": a foreign CSCA and Document Signers made with
# the openssl command line only (no civreg code), LDS security objects built
# with `openssl asn1parse -genconf`, SignedData with `openssl cms -sign`.
# `civreg chip verify` must accept RSA PKCS#1 v1.5, RSASSA-PSS and ECDSA
# (P-256, brainpoolP256r1) over SHA-1/224/256/384/512, LDSSecurityObject v0
# and v1, signers named by issuerAndSerialNumber or subjectKeyIdentifier, and
# refuse a DS used outside its private key usage period, a DS whose key
# usage forbids signing, an altered data group and a SignedData of the wrong content type.
# usage: chip_foreign.sh CIVREG_BIN SOURCE_DIR
set -eu
CIVREG=$1
SRC=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/civreg-foreign-XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }

# data groups: the Doc 9303 specimen DG1 and a small DG2-shaped object
xxd -r -p "$SRC/tests/data/icao/dg1-td3-specimen.hex" > dg1.bin
printf '\165\003\001\002\003' > dg2.bin

cat > ca.cnf <<'CNF'
[ca]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ds]
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ds_badku]
keyUsage = critical,keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ds_old_pkup]
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
# privateKeyUsagePeriod 2020-01-01 .. 2020-04-01 (RFC 3280 §4.2.1.4)
2.5.29.16 = DER:3022800F32303230303130313030303030305A810F32303230303430313030303030305A
CNF

openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes \
    -keyout csca.key -out csca.pem -subj "/C=XF/O=Foreign State/CN=CSCA XF" -days 3650 \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

# make_ds NAME KEYSPEC EXT [COUNTRY]
make_ds() {
    case "$2" in
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" 2>/dev/null ;;
    *) openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" -out "$1.key" ;;
    esac
    openssl req -new -key "$1.key" -subj "/C=${4:-XF}/O=Foreign State/CN=DS $1" -out "$1.csr" 2>/dev/null
    openssl x509 -req -in "$1.csr" -CA csca.pem -CAkey csca.key -CAcreateserial -days 365 \
        -extfile ca.cnf -extensions "$3" -out "$1.pem" 2>/dev/null
}

# make_sod NAME DS DIGEST LSO_VERSION [extra openssl cms options...]
make_sod() {
    name=$1; ds=$2; md=$3; ver=$4; shift 4
    h1=$(openssl dgst -"$md" -r dg1.bin | cut -d' ' -f1)
    h2=$(openssl dgst -"$md" -r dg2.bin | cut -d' ' -f1)
    {
        echo "asn1=SEQUENCE:lso"
        echo "[lso]"
        echo "version=INTEGER:$ver"
        echo "alg=SEQUENCE:alg"
        echo "hashes=SEQUENCE:hashes"
        [ "$ver" = 1 ] && echo "info=SEQUENCE:info"
        echo "[alg]"
        echo "oid=OID:$md"
        echo "[hashes]"
        echo "h1=SEQUENCE:dg1"
        echo "h2=SEQUENCE:dg2"
        echo "[dg1]"
        echo "n=INTEGER:1"
        echo "v=FORMAT:HEX,OCTETSTRING:$h1"
        echo "[dg2]"
        echo "n=INTEGER:2"
        echo "v=FORMAT:HEX,OCTETSTRING:$h2"
        echo "[info]"
        echo "lds=PRINTABLESTRING:0108"
        echo "uni=PRINTABLESTRING:040000"
    } > "$name.cnf"
    openssl asn1parse -genconf "$name.cnf" -out "$name.lso" > /dev/null
    openssl cms -sign -binary -nodetach -in "$name.lso" -econtent_type 2.23.136.1.1.1 \
        -signer "$ds.pem" -inkey "$ds.key" -md "$md" -outform DER -out "$name.cms" "$@"
    mkdir "$name"
    cp dg1.bin "$name/0101"
    cp dg2.bin "$name/0102"
    python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
n = len(d)
h = bytes([n]) if n < 128 else (bytes([0x81, n]) if n < 256 else bytes([0x82, n >> 8, n & 255]))
open(sys.argv[2], "wb").write(b"\x77" + h + d)' "$name.cms" "$name/011D"
}

# expect_ok NAME: chip verify accepts the package
expect_ok() {
    if ! "$CIVREG" chip verify "$1" --csca csca.pem --mrz-file mrz.txt > "$1.json" 2> "$1.err"; then
        cat "$1.json" "$1.err" >&2
        fail "$1: chip verify refused a valid foreign EF.SOD"
    fi
    grep -q '"valid": true' "$1.json" || fail "$1: report not valid"
}

# expect_refused NAME PATTERN
expect_refused() {
    if "$CIVREG" chip verify "$1" --csca csca.pem > "$1.json" 2> "$1.err"; then
        fail "$1: chip verify accepted what it must refuse"
    fi
    grep -q "$2" "$1.err" || { cat "$1.err" >&2; fail "$1: reason '$2' not given"; }
}

xxd -r -p "$SRC/tests/data/icao/dg1-td3-specimen.hex" | tail -c 88 | fold -w 44 > mrz.txt

make_ds rsa rsa ds
make_ds ec prime256v1 ds
make_ds bp brainpoolP256r1 ds
make_ds old prime256v1 ds_old_pkup
make_ds badku prime256v1 ds_badku
make_ds elsewhere prime256v1 ds XG

make_sod rsa-pkcs1-sha256-v0 rsa sha256 0
make_sod rsa-pss-sha512-v1 rsa sha512 1 -keyopt rsa_padding_mode:pss -keyopt rsa_pss_saltlen:-1
make_sod rsa-pss-sha1-v0 rsa sha1 0 -keyopt rsa_padding_mode:pss
make_sod ecdsa-sha1-v0 ec sha1 0
make_sod ecdsa-sha224-v1 ec sha224 1
make_sod ecdsa-sha384-v0 ec sha384 0 -keyid
make_sod ecdsa-sha512-v1 ec sha512 1
make_sod brainpool-sha256-v0 bp sha256 0
for p in rsa-pkcs1-sha256-v0 rsa-pss-sha512-v1 rsa-pss-sha1-v0 ecdsa-sha1-v0 ecdsa-sha224-v1 \
         ecdsa-sha384-v0 ecdsa-sha512-v1 brainpool-sha256-v0; do
    expect_ok "$p"
done
grep -q '"signature_algorithm": "rsassaPss"' rsa-pss-sha512-v1.json || fail "PSS not reported"
grep -q '"lso_version": 1' ecdsa-sha224-v1.json || fail "v1 not reported"
grep -q '"lds_version": "0108"' ecdsa-sha512-v1.json || fail "LDS version info not reported"

# a DS whose private key usage period ended in 2020 signing now
make_sod old-pkup old sha256 0
expect_refused old-pkup "ds_private_key_usage_period: EF.SOD was signed .* outside the Document Signer's private key usage period"

# a DS whose keyUsage does not allow signing
make_sod badku-sod badku sha256 0
expect_refused badku-sod "ds_key_usage: the Document Signer's keyUsage does not allow digitalSignature"

# a DS of another country under this CSCA
make_sod elsewhere-sod elsewhere sha256 0
expect_refused elsewhere-sod "ds_country: the Document Signer's issuer country 'XF' and subject country 'XG' differ"

# one flipped bit in DG2
make_sod flipped ec sha256 0
printf '\165\003\001\002\002' > flipped/0102
expect_refused flipped "dg2_hash: DG2 .* does not match"

# a SignedData over id-data instead of an LDS security object
openssl cms -sign -binary -nodetach -in ecdsa-sha1-v0.lso -signer ec.pem -inkey ec.key \
    -outform DER -out wrong.cms
mkdir wrongtype
cp dg1.bin wrongtype/0101
python3 -c '
import sys
d = open("wrong.cms", "rb").read(); n = len(d)
open("wrongtype/011D", "wb").write(b"\x77\x82" + bytes([n >> 8, n & 255]) + d)'
expect_refused wrongtype "sod_structure: sod: eContentType 1.2.840.113549.1.7.1 is not an LDS security object"
echo "foreign EF.SOD: all cases behaved"
