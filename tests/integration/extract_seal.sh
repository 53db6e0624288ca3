#!/usr/bin/env bash
# civreg end to end: deaths and certified extracts with the real binary.
#  - extract PDF -> pdftoppm -r 200 -> `civreg seal verify` succeeds;
#  - the seal's ES256 signature checked independently with the openssl
#    command line (r||s turned into DER by hand, JCS form by python3);
#  - one changed character in the payload fails (text and re-encoded QR), a
#    signer not under the CSCA fails, no QR found and malformed seals fail,
#    each with its reason;
#  - a registered death shows on person show, record show and audit trace,
#    the extract of a deceased person carries the date of death, and the
#    log still verifies;
#  - the public page /seal and POST /api/v1/seal/verify (image, text,
#    refusals, throttling);
#  - passport enrolment refuses a deceased person, and approval refuses an
#    application whose applicant died after enrolment.
# Usage: extract_seal.sh CIVREG SOURCE_DIR
set -euo pipefail
B=$1
SRC=$2
T=$(mktemp -d /tmp/civreg-extract.XXXXXX)
trap 'rm -rf "$T"' EXIT
D=$T/data
cd "$T"

fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_fail NEEDLE CMD...: the command must exit 1 and say NEEDLE on stderr
expect_fail() {
    local needle=$1; shift
    set +e
    "$@" >out.txt 2>err.txt
    local rc=$?
    set -e
    [ $rc -eq 1 ] || fail "exit $rc (want 1): $* : $(cat err.txt)"
    grep -qF -- "$needle" err.txt || fail "'$needle' not in: $(cat err.txt)"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

printf 'nimda-tundra-ferns-61\n' >a.pw
printf '1krelc-tundra-ferns-61\n' >c1.pw
printf '2krelc-tundra-ferns-61\n' >c2.pw
printf 'rartsiger-tundra-ferns-61\n' >r.pw
"$B" init --data "$D" >/dev/null 2>&1
"$B" user add --data "$D" --username admin --role admin <a.pw >/dev/null
"$B" user add --data "$D" --username clerk1 --role clerk --user admin --password-file a.pw <c1.pw >/dev/null
"$B" user add --data "$D" --username clerk2 --role clerk --user admin --password-file a.pw <c2.pw >/dev/null
"$B" user add --data "$D" --username reg1 --role registrar --user admin --password-file a.pw <r.pw >/dev/null
"$B" pki init --data "$D" --country UT --user admin --password-file a.pw >/dev/null

"$B" record draft --example >rec.json
ID=$("$B" record draft --data "$D" --user clerk1 --password-file c1.pw <rec.json)
"$B" record verify "$ID" --data "$D" --user clerk2 --password-file c2.pw <rec.json >/dev/null
UIN=$("$B" record register "$ID" --data "$D" --user reg1 --password-file r.pw | json 'd["uin"]')

# No barcode signer yet: refused, and nothing is recorded.
expect_fail "issue-barcode-signer" "$B" extract issue "$ID" --data "$D" --user clerk1 --password-file c1.pw --out x.pdf
[ ! -e x.pdf ] || fail "a PDF was written without a seal"
"$B" pki issue-barcode-signer --data "$D" --user admin --password-file a.pw >/dev/null
"$B" pki export csca --data "$D" >csca.pem

# ---- the round trip
"$B" extract issue "$UIN" --data "$D" --user clerk1 --password-file c1.pw --out x.pdf \
    --payload-out x.txt >issue.json
[ "$(head -c 5 x.pdf)" = "%PDF-" ] || fail "not a PDF"
pdftoppm -r 200 -png x.pdf page 2>/dev/null
"$B" seal verify page-1.png --csca csca.pem >v.json
[ "$(json 'd["valid"]' <v.json)" = True ] || fail "round trip did not verify"
[ "$(json 'd["data"]["msg"]["uin"]' <v.json)" = "$UIN" ] || fail "wrong UIN sealed"
[ "$(json 'd["data"]["msg"]["gn"]' <v.json)" = "Amélie Wanjiru" ] || fail "name not as keyed"
[ "$(json 'd["data"]["hdr"]["t"]' <v.json)" = "civreg.birth-extract" ] || fail "type"
# the printed page says what the seal says
pdftotext x.pdf - 2>/dev/null | grep -q "$(json 'd["registration_number"]' <issue.json)" ||
    fail "registration number not printed"
# a JPEG photo-like copy (grey, lossy) also verifies
convert page-1.png -quality 85 page.jpg
"$B" seal verify page.jpg --csca csca.pem >/dev/null
# TIFF too, and the raw payload, on the command line and on stdin
convert page-1.png page.tif
"$B" seal verify page.tif --csca csca.pem >/dev/null
"$B" seal verify --payload "$(cat x.txt)" --csca csca.pem >/dev/null
"$B" seal verify --stdin --csca csca.pem <x.txt >/dev/null

# ---- independent check of the ES256 signature with openssl
python3 - x.txt <<'EOF'
import base64, json, sys
seal = json.load(open(sys.argv[1]))
def b64u(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
# RFC 8785 for this data: sorted keys, no blanks, UTF-8, integers only
open("data.jcs", "wb").write(json.dumps(seal["data"], sort_keys=True, separators=(",", ":"),
                                        ensure_ascii=False).encode())
open("cer.der", "wb").write(b64u(seal["sig"]["cer"]))
rs = b64u(seal["sig"]["sigvl"]); assert len(rs) == 64
def integer(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80: b = b"\0" + b
    return b"\x02" + bytes([len(b)]) + b
body = integer(rs[:32]) + integer(rs[32:])
open("sig.der", "wb").write(b"\x30" + bytes([len(body)]) + body)
EOF
openssl x509 -inform DER -in cer.der -pubkey -noout >pub.pem
openssl dgst -sha256 -verify pub.pem -signature sig.der data.jcs >/dev/null ||
    fail "openssl does not verify the seal signature"
openssl verify -CAfile csca.pem <(openssl x509 -inform DER -in cer.der) >/dev/null ||
    fail "openssl does not chain the barcode signer to the CSCA"

# ---- one changed character in the payload
sed 's/"fn":"Otieno"/"fn":"Otiena"/' x.txt >t.txt
cmp -s x.txt t.txt && fail "tampering did not change the payload"
expect_fail "signature does not verify" "$B" seal verify --payload "$(cat t.txt)" --csca csca.pem
qrencode -l M -s 4 -o t.png <t.txt
expect_fail "signature does not verify" "$B" seal verify t.png --csca csca.pem

# ---- a signer not under the CSCA: another office's PKI
"$B" init --data other >/dev/null 2>&1
"$B" user add --data other --username admin --role admin <a.pw >/dev/null
"$B" pki init --data other --country UT --user admin --password-file a.pw >/dev/null
"$B" pki export csca --data other >other.pem
expect_fail "not issued by a CSCA" "$B" seal verify page-1.png --csca other.pem

# ---- no QR, malformed seals, bad arguments
convert -size 400x400 xc:white blank.png
expect_fail "no QR code found" "$B" seal verify blank.png --csca csca.pem
printf 'hello' | qrencode -o hello.png
expect_fail "not JSON" "$B" seal verify hello.png --csca csca.pem
expect_fail "data.hdr.v" "$B" seal verify --payload '{"data":{"hdr":{"t":"x","v":2,"is":"UTO"},"msg":{}},"sig":{}}' --csca csca.pem
expect_fail "cannot open" "$B" seal verify missing.png --csca csca.pem
expect_fail "csca" "$B" seal verify page-1.png --csca rec.json
set +e; "$B" seal verify >/dev/null 2>&1; rc=$?; set -e
[ $rc -eq 2 ] || fail "no argument: exit $rc, want 2"

# ---- deaths
expect_fail "registrar" "$B" death register "$UIN" --data "$D" --user clerk1 --password-file c1.pw \
    --date 2026-01-02 --locality Kisumu --district "Kisumu Central" --informant "Joseph Omondi Otieno"
"$B" death register "$UIN" --data "$D" --user reg1 --password-file r.pw --date 2026-01-02 \
    --locality Kisumu --district "Kisumu Central" --facility "Jaramogi Hospital" \
    --cause-ref MCCD-2026-0042 --informant "Joseph Omondi Otieno" --relationship father >death.json
DN=$(json 'd["registration_number"]' <death.json)
case "$DN" in HQ/D/*) ;; *) fail "death number $DN" ;; esac
expect_fail "already registered" "$B" death register "$UIN" --data "$D" --user reg1 --password-file r.pw \
    --date 2026-01-02 --locality Kisumu --district X --informant Y
[ "$("$B" person show "$UIN" --data "$D" --user clerk1 --password-file c1.pw | json 'd["deceased"]')" = True ] ||
    fail "person show: not deceased"
[ "$("$B" record show "$ID" --data "$D" --user clerk1 --password-file c1.pw | json 'd["death"]["registration_number"]')" = "$DN" ] ||
    fail "record show: no death"
"$B" audit trace "$UIN" --data "$D" >trace.json
[ "$(json 'd["person"]["deceased"]' <trace.json)" = True ] || fail "trace: not deceased"
json '[e["type"] for e in d["events"]]' <trace.json | grep -q death.register || fail "trace: no death event"
[ "$("$B" death show "$DN" --data "$D" --user clerk1 --password-file c1.pw | json 'd["uin"]')" = "$UIN" ] ||
    fail "death show"
# the passport office refuses a deceased person (application enrol), and a
# death registered after enrolment stops the approval
printf 'lorne-tundra-ferns-61\n' >e.pw
printf 'rppa-tundra-ferns-61\n' >p.pw
"$B" user add --data "$D" --username enrol --role enrolment_officer --user admin --password-file a.pw <e.pw >/dev/null
"$B" user add --data "$D" --username appr --role approver --user admin --password-file a.pw <p.pw >/dev/null
PHOTO=$SRC/tests/data/issuance/portrait.jpg
SIG=$SRC/tests/data/issuance/signature.png
expect_fail "recorded as deceased" "$B" application enrol --data "$D" --user enrol --password-file e.pw \
    --uin "$UIN" --photo "$PHOTO" --signature "$SIG"
# another birth (other child, date and mother), so duplicate detection lets it through
python3 -c 'import json,sys; r=json.load(sys.stdin); r["child"]["given_names"]="Baraka"; r["birth"]["date"]="1979-11-23"; r["mother"]["given_names"]="Wanjiku"; json.dump(r,sys.stdout)' <rec.json >rec2.json
ID2=$("$B" record draft --data "$D" --user clerk1 --password-file c1.pw <rec2.json)
"$B" record verify "$ID2" --data "$D" --user clerk2 --password-file c2.pw <rec2.json >/dev/null
UIN2=$("$B" record register "$ID2" --data "$D" --user reg1 --password-file r.pw | json 'd["uin"]')
APP=$("$B" application enrol --data "$D" --user enrol --password-file e.pw --uin "$UIN2" \
    --photo "$PHOTO" --signature "$SIG" | json 'd["id"]')
"$B" death register "$UIN2" --data "$D" --user reg1 --password-file r.pw --date 2026-02-03 \
    --locality Kisumu --district "Kisumu Central" --informant "Grace Achieng Otieno" >/dev/null
expect_fail "approval refused: $UIN2 is recorded as deceased" "$B" application approve "$APP" \
    --data "$D" --user appr --password-file p.pw

# the extract of a deceased person says so, in the seal and on the page
"$B" extract issue "$UIN" --data "$D" --user clerk1 --password-file c1.pw --out d.pdf >/dev/null
pdftoppm -r 200 -png d.pdf dpage 2>/dev/null
[ "$("$B" seal verify dpage-1.png --csca csca.pem | json 'd["data"]["msg"]["dod"]')" = 2026-01-02 ] ||
    fail "deceased extract has no date of death"
pdftotext d.pdf - 2>/dev/null | grep -q DECEASED || fail "DECEASED not printed"
# every event (death.register, extract.issue) is signed and in the log
"$B" audit verify --data "$D" >/dev/null || fail "audit verify"
# and the audit notices an edited death or a deleted extract
cp -r "$D" edited
sqlite3 edited/civreg.db "UPDATE deaths SET data = replace(data, 'Kisumu', 'Kisumo')"
expect_fail "" "$B" audit verify --data edited
grep -q "deaths HQ-D-[0-9a-f]* data: stored content hashes to" out.txt err.txt || fail "edited death not reported"
rm -rf edited; cp -r "$D" edited
sqlite3 edited/civreg.db "DELETE FROM extracts"
expect_fail "" "$B" audit verify --data edited
grep -q "extracts HQ-X-[0-9a-f]*: row missing" out.txt err.txt || fail "deleted extract not reported"
# ---- the public verification page and API (no sign-in, throttled)
# `civreg serve` on $D in the background, its output into $1.out and
# $1.err: SERVE its pid, U its address once it listens
serve_start() {
    "$B" serve --data "$D" --listen 127.0.0.1:0 >"$1.out" 2>"$1.err" &
    SERVE=$!
    PORT=
    for _ in $(seq 1 100); do
        PORT=$(cat "$1.out" "$1.err" 2>/dev/null | grep -o 'http://127.0.0.1:[0-9]*' | head -1 | sed 's/.*://' || true)
        [ -n "$PORT" ] && break
        sleep 0.1
    done
    [ -n "$PORT" ] || fail "the server did not start: $(cat "$1.err")"
    U=http://127.0.0.1:$PORT
}
SERVE=
trap 'kill $SERVE 2>/dev/null || true; rm -rf "$T"' EXIT
serve_start serve
curl -s -D page.h -o page.html "$U/seal"
grep -q "^HTTP/1.1 200" page.h || fail "GET /seal: $(head -1 page.h)"
grep -qi "content-security-policy" page.h || fail "GET /seal: no security headers"
grep -q 'data-page="seal"' page.html || fail "GET /seal: not the seal screen"
curl -s -H 'Content-Type: image/png' --data-binary @page-1.png "$U/api/v1/seal/verify" >web1.json
[ "$(json 'd["valid"]' <web1.json)" = True ] || fail "web: scan did not verify: $(cat web1.json)"
[ "$(json 'd["data"]["msg"]["uin"]' <web1.json)" = "$UIN" ] || fail "web: wrong data"
curl -s -H 'Content-Type: text/plain' --data-binary @t.txt "$U/api/v1/seal/verify" >web2.json
[ "$(json 'd["valid"]' <web2.json)" = False ] || fail "web: tampered seal accepted"
json 'd["error"]' <web2.json | grep -q "signature does not verify" || fail "web: reason $(cat web2.json)"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/pdf' --data-binary @x.pdf "$U/api/v1/seal/verify")" = 415 ] ||
    fail "web: a PDF upload was not refused with 415"
# 30 checks a minute per address (3 made above), then 429 with Retry-After
for i in $(seq 1 27); do
    curl -s -o /dev/null -H 'Content-Type: text/plain' --data-binary @x.txt "$U/api/v1/seal/verify"
done
curl -s -D thr.h -o /dev/null -H 'Content-Type: text/plain' --data-binary @x.txt "$U/api/v1/seal/verify"
grep -q "^HTTP/1.1 429" thr.h || fail "web: no throttling: $(head -1 thr.h)"
grep -qi "^Retry-After: [0-9]" thr.h || fail "web: 429 without Retry-After"
kill $SERVE
wait $SERVE 2>/dev/null || true

# ---- the public check reads no private key, and follows a CSCA rollover
# The sealing key file is moved away while a server runs: checking a seal
# needs the certificates only. Then the office rolls its CSCA over and seals
# with a new barcode signer: the server's cached trust anchors must follow.
mv "$D/keys/pki.key" pki.key.away
serve_start serve2
curl -s -H 'Content-Type: text/plain' --data-binary @x.txt "$U/api/v1/seal/verify" >web3.json
[ "$(json 'd["valid"]' <web3.json)" = True ] || fail "web: the seal check needed pki.key: $(cat web3.json)"
mv pki.key.away "$D/keys/pki.key"
"$B" pki rollover --data "$D" --user admin --password-file a.pw >/dev/null
"$B" pki issue-barcode-signer --data "$D" --user admin --password-file a.pw >/dev/null
"$B" extract issue "$UIN" --data "$D" --user clerk1 --password-file c1.pw --out y.pdf \
    --payload-out y.txt >/dev/null
curl -s -H 'Content-Type: text/plain' --data-binary @y.txt "$U/api/v1/seal/verify" >web4.json
[ "$(json 'd["valid"]' <web4.json)" = True ] ||
    fail "web: a seal under the new CSCA did not verify (stale trust anchors): $(cat web4.json)"
curl -s -H 'Content-Type: text/plain' --data-binary @x.txt "$U/api/v1/seal/verify" >web5.json
[ "$(json 'd["valid"]' <web5.json)" = True ] || fail "web: a seal under the old CSCA: $(cat web5.json)"
kill $SERVE
wait $SERVE 2>/dev/null || true

echo "ok: seal round trip, tampering, foreign signer, malformed seals, deaths"
