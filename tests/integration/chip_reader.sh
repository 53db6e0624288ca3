#!/bin/bash
# The chip read back the way a border reads it: a real pcscd with the
# vsmartcard virtual reader (vsmartcard-vpcd), `civreg chip emulate` as the
# chip of a personalized package, and `civreg chip read` over PC/SC with BAC,
# secure messaging, passive and active authentication.
#   - ECDSA and RSA Active Authentication chips read: exit 0, every check holds,
#     the files read equal the package
#   - extended-length READ BINARY in 1000-byte chunks reads the same
#   - a wrong MRZ fails access control with a clear message
#   - a chip whose DG2 was altered fails passive authentication (dg2_hash)
#   - a clone (the same files, another Active Authentication key) fails AA
#   - Chip Authentication (DG14) passes; a clone with another CA key fails it
#   - a chip offering PACE (EF.CardAccess) is read with PACE from the MRZ and
#     from the CAN (AES secure messaging); a wrong CAN or MRZ is refused;
#     --bac forces BAC; a CAN on a BAC-only chip is refused clearly
#   - an independent chip, vsmartcard's ePass (python3-virtualsmartcard, run
#     by tests/integration/epass_chip.py), is read with BAC and secure
#     messaging, and refuses a wrong MRZ
# pcscd keeps its socket in /run/pcscd, so the test needs root (CI runs as
# root) and no other pcscd running; it starts its own in the foreground with
# a reader.conf.d of its own (vpcd on a free port) and stops it at the end.
# usage: chip_reader.sh CIVREG_BIN SOURCE_DIR
set -eu
CIVREG=$1
SRC=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: pcscd needs root for /run/pcscd" >&2
    exit 77
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/civreg-reader-XXXXXX")
PCSCD_PID=
EMU_PID=
# stop a background process: SIGTERM, then SIGKILL after 5 s, so that a
# process that does not stop cannot hold the test until its timeout
stop_pid() {
    kill "$1" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then
        echo "chip_reader: pid $1 ignored SIGTERM for 5 s, killed" >&2
        kill -9 "$1" 2>/dev/null || true
    fi
    wait "$1" 2>/dev/null || true
}
cleanup() {
    if [ -n "$EMU_PID" ]; then stop_pid "$EMU_PID"; fi
    if [ -n "$PCSCD_PID" ]; then stop_pid "$PCSCD_PID"; fi
    rm -rf "$T"
}
trap cleanup EXIT
cd "$T"

# one pcscd per machine: wait for another run of this test to finish
exec 9>"${TMPDIR:-/tmp}/civreg-pcscd.lock"
flock -w 300 9 || fail "another pcscd test holds the lock"
if [ -S /run/pcscd/pcscd.comm ] && [ -f /run/pcscd/pcscd.pid ] &&
   kill -0 "$(cat /run/pcscd/pcscd.pid)" 2>/dev/null; then
    echo "SKIP: a pcscd is already running (pid $(cat /run/pcscd/pcscd.pid)); stop it first" >&2
    exit 77
fi

PORT=$(( 20000 + ($$ % 20000) ))
mkdir rc
cat > rc/vpcd <<CONF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:$PORT
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    $PORT
CONF
pcscd --foreground --config "$T/rc" > pcscd.log 2>&1 &
PCSCD_PID=$!

# a PKI, an issuance operator and packages (ECDSA and RSA AA keys)
D=$T/data
printf 'nimda-tundra-ferns-61\n' > admin.pw
printf 'reciffo-tundra-ferns-61\n' > officer.pw
"$CIVREG" init --data "$D" > /dev/null 2>&1
"$CIVREG" user add --data "$D" --username admin --role admin < admin.pw > /dev/null 2>&1
"$CIVREG" user add --data "$D" --username officer --role issuance_operator --user admin \
    --password-file admin.pw < officer.pw > /dev/null 2>&1
"$CIVREG" pki init --data "$D" --country UT --user admin --password-file admin.pw > /dev/null 2>&1
"$CIVREG" pki issue-ds --data "$D" --user admin --password-file admin.pw > /dev/null 2>&1
"$CIVREG" pki export csca --data "$D" > csca.pem
printf 'P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10\n' > mrz.txt
# another passport's MRZ (valid check digits, other number and dates)
printf 'P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C<3UTO6908061F9406236ZE184226B<<<<<14\n' > wrong.txt
for alg in ecdsa-p256 rsa-2048; do
    # the ECDSA chip also has DG14 (Chip Authentication, brainpoolP256r1)
    ca=""; [ "$alg" = ecdsa-p256 ] && ca=--ca
    "$CIVREG" chip personalize --data "$D" --mrz-lines mrz.txt $ca \
        --photo "$SRC/tests/data/icao/face-120x160.jpg" --aa "$alg" --out "pkg-$alg" \
        --user officer --password-file officer.pw > /dev/null 2>&1 || fail "personalize $alg"
done
"$CIVREG" chip personalize --data "$D" --mrz-lines mrz.txt --pace --ca --ca-curve P-256 \
    --photo "$SRC/tests/data/icao/face-120x160.jpg" --aa ecdsa-p256 --out pkg-pace \
    --user officer --password-file officer.pw > /dev/null 2>&1 || fail "personalize --pace"

# wait (up to 30 s: pcscd and the chip start slowly on a loaded machine)
# for the chip started in the background to log (into $1) that it is
# connected to vpcd, then one presence poll of pcscd (400 ms) to see the
# card swapped; fail with $2 when it does not connect
wait_vpcd() {
    for _ in $(seq 300); do
        grep -q "connected to vpcd" "$1" && break
        sleep 0.1
    done
    grep -q "connected to vpcd" "$1" || fail "$2: $(cat "$1")"
    sleep 1
}
emulate() { # start the virtual chip of package $1
    if [ -n "$EMU_PID" ]; then stop_pid "$EMU_PID"; fi
    # emptied here, before the background start: the child truncates it
    # only once it runs, so without this the wait could still read the
    # previous chip's "connected to vpcd" and go on before this one is up
    : > emu.log
    "$CIVREG" chip emulate "$1" --port "$PORT" --wait 30 --can 271828 --verbose 2> emu.log &
    EMU_PID=$!
    wait_vpcd emu.log "the virtual chip did not connect"
}
# read the chip in the virtual reader; $1 = name, rest = extra options
read_chip() {
    local name=$1; shift
    set +e
    timeout 60 "$CIVREG" chip read --reader "Virtual PCD" --wait 20 --csca csca.pem "$@" \
        > "$name.json" 2> "$name.err"
    echo $? > "$name.rc"
    set -e
}
json() { # json FILE EXPR: print a value of the report
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"r": r}))' "$1" "$2"
}

# 1. genuine chips, ECDSA and RSA Active Authentication
for alg in ecdsa-p256 rsa-2048; do
    emulate "pkg-$alg"
    read_chip "good-$alg" --mrz "$(cat mrz.txt)" --out "read-$alg"
    [ "$(cat good-$alg.rc)" = 0 ] || fail "$alg chip not read: $(cat good-$alg.err)"
    [ "$(json good-$alg.json 'r["valid"]')" = True ] || fail "$alg report not valid"
    [ "$(json good-$alg.json 'r["access"]["protocol"]')" = BAC ] || fail "$alg access not BAC"
    [ "$(json good-$alg.json 'r["aa"]["status"]')" = valid ] || fail "$alg AA not valid"
    [ "$(json good-$alg.json 'r["reader"]')" = "Virtual PCD 00 00" ] || fail "$alg reader name"
    for f in 011E 0101 0102 010F 011D; do
        cmp -s "pkg-$alg/$f" "read-$alg/$f" || fail "$alg: $f read differs from the package"
    done
done
json good-rsa-2048.json 'r["aa"]["algorithm"]' | grep -q rsa-iso9796-2 || fail "RSA AA algorithm"
# Chip Authentication: DG14 read, CA passed and secure messaging re-keyed
[ "$(json good-ecdsa-p256.json 'r["ca"]["status"]')" = passed ] || fail "ECDSA chip: CA not passed"
cmp -s pkg-ecdsa-p256/010E read-ecdsa-p256/010E || fail "DG14 read differs from the package"
[ ! -e read-ecdsa-p256/ca-private-key.p8 ] || fail "the CA private key was read from the chip"
[ "$(json good-rsa-2048.json 'r["ca"]["status"]')" = "not supported" ] || fail "no DG14: CA status"
json good-ecdsa-p256.json 'r["aa"]["algorithm"]' | grep -q ecdsa-plain || fail "ECDSA AA algorithm"

# 2. extended length, 1000-byte chunks
emulate pkg-ecdsa-p256
read_chip ext --mrz "$(cat mrz.txt)" --extended --chunk 1000
[ "$(cat ext.rc)" = 0 ] || fail "extended-length read failed: $(cat ext.err)"
n_ext=$(json ext.json 'r["timings"]["apdus"]')
n_short=$(json good-ecdsa-p256.json 'r["timings"]["apdus"]')
[ "$n_ext" -lt "$n_short" ] || fail "extended length did not save APDUs ($n_ext vs $n_short)"

# 3. wrong MRZ: access control fails, clearly, and nothing is written
emulate pkg-ecdsa-p256
read_chip wrong --mrz "$(cat wrong.txt)" --out read-wrong
[ "$(cat wrong.rc)" = 1 ] || fail "wrong MRZ: exit $(cat wrong.rc)"
grep -q "access control failed" wrong.err || fail "wrong MRZ message: $(cat wrong.err)"
[ ! -e read-wrong ] || fail "wrong MRZ: files written"

# 4. DG2 altered after signing: passive authentication fails on its hash
cp -r pkg-ecdsa-p256 pkg-dg2
printf '\001' | dd of=pkg-dg2/0102 bs=1 seek=300 conv=notrunc 2> /dev/null
cmp -s pkg-ecdsa-p256/0102 pkg-dg2/0102 && fail "DG2 not altered"
emulate pkg-dg2
read_chip dg2 --mrz "$(cat mrz.txt)"
[ "$(cat dg2.rc)" = 1 ] || fail "altered DG2 accepted"
grep -q "dg2_hash" dg2.err || fail "altered DG2 message: $(cat dg2.err)"
[ "$(json dg2.json 'r["access"]["valid"]')" = True ] || fail "altered DG2: access"

# 5. a clone: the same signed files, another Active Authentication key
cp -r pkg-ecdsa-p256 pkg-clone
rm pkg-clone/aa-private-key.p8
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform DER \
    -out pkg-clone/aa-private-key.p8 2> /dev/null
emulate pkg-clone
read_chip clone --mrz "$(cat mrz.txt)"
[ "$(cat clone.rc)" = 1 ] || fail "clone accepted"
[ "$(json clone.json 'r["aa"]["status"]')" = invalid ] || fail "clone: AA not invalid"
grep -q "active_authentication" clone.err || fail "clone message: $(cat clone.err)"
# ... while its passive authentication alone holds: only AA tells a clone
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if all(c["valid"] for c in r["checks"] if c["check"]!="active_authentication") else 1)' clone.json ||
    fail "clone: passive authentication should hold"
# 5b. a clone with another Chip Authentication key: CA fails, AA holds
cp -r pkg-ecdsa-p256 pkg-caclone
rm pkg-caclone/ca-private-key.p8
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP256r1 -outform DER \
    -out pkg-caclone/ca-private-key.p8 2> /dev/null
emulate pkg-caclone
read_chip caclone --mrz "$(cat mrz.txt)"
[ "$(cat caclone.rc)" = 1 ] || fail "CA clone accepted"
[ "$(json caclone.json 'r["ca"]["status"]')" = failed ] || fail "CA clone: CA not failed"
[ "$(json caclone.json 'r["aa"]["status"]')" = valid ] || fail "CA clone: AA should hold"
grep -q "chip_authentication" caclone.err || fail "CA clone message: $(cat caclone.err)"
# 6. PACE: with the MRZ, with the CAN, a wrong CAN refused, BAC on request
emulate pkg-pace
read_chip pace --mrz "$(cat mrz.txt)"
[ "$(cat pace.rc)" = 0 ] || fail "PACE chip not read: $(cat pace.err)"
[ "$(json pace.json 'r["access"]["protocol"]')" = PACE ] || fail "PACE not used"
[ "$(json pace.json 'r["access"]["secure_messaging"]')" = "AES-128, CMAC" ] || fail "PACE SM"
[ "$(json pace.json 'r["aa"]["status"]')" = valid ] || fail "PACE chip: AA"
[ "$(json pace.json 'r["ca"]["status"]')" = passed ] || fail "PACE chip: CA (P-256)"
read_chip pace-can --can 271828
[ "$(cat pace-can.rc)" = 0 ] || fail "PACE with the CAN failed: $(cat pace-can.err)"
[ "$(json pace-can.json 'r["access"]["password"]')" = CAN ] || fail "PACE password not the CAN"
read_chip pace-badcan --can 271829
[ "$(cat pace-badcan.rc)" = 1 ] || fail "wrong CAN accepted"
grep -q "access control failed: the chip refused PACE" pace-badcan.err ||
    fail "wrong CAN message: $(cat pace-badcan.err)"
read_chip pace-wrongmrz --mrz "$(cat wrong.txt)"
[ "$(cat pace-wrongmrz.rc)" = 1 ] || fail "PACE with a wrong MRZ accepted"
grep -q "access control failed" pace-wrongmrz.err || fail "PACE wrong MRZ message"
read_chip pace-bac --mrz "$(cat mrz.txt)" --bac
[ "$(json pace-bac.json 'r["access"]["protocol"]')" = BAC ] || fail "--bac did not use BAC"
# 6b. PACE with the integrated mapping: EF.CardAccess offers only ECDH-IM
"$CIVREG" chip personalize --data "$D" --mrz-lines mrz.txt --pace --pace-im \
    --photo "$SRC/tests/data/icao/face-120x160.jpg" --out pkg-both \
    --user officer --password-file officer.pw > /dev/null 2>&1 && fail "--pace with --pace-im accepted"
"$CIVREG" chip personalize --data "$D" --mrz-lines mrz.txt --pace-im \
    --photo "$SRC/tests/data/icao/face-120x160.jpg" --aa ecdsa-p256 --out pkg-pace-im \
    --user officer --password-file officer.pw > /dev/null 2>&1 || fail "personalize --pace-im"
emulate pkg-pace-im
read_chip pace-im --mrz "$(cat mrz.txt)"
[ "$(cat pace-im.rc)" = 0 ] || fail "PACE-IM chip not read: $(cat pace-im.err)"
[ "$(json pace-im.json 'r["access"]["protocol"]')" = PACE ] || fail "PACE-IM: PACE not used"
[ "$(json pace-im.json 'r["access"]["mapping"]')" = "integrated, ECDH" ] || fail "PACE-IM: mapping"
[ "$(json pace-im.json 'r["aa"]["status"]')" = valid ] || fail "PACE-IM chip: AA"
read_chip pace-im-badcan --can 271829
[ "$(cat pace-im-badcan.rc)" = 1 ] || fail "PACE-IM: wrong CAN accepted"
grep -q "access control failed: the chip refused PACE" pace-im-badcan.err ||
    fail "PACE-IM wrong CAN message: $(cat pace-im-badcan.err)"
# a chip without EF.CardAccess cannot be opened with a CAN
emulate pkg-ecdsa-p256
read_chip nopace-can --can 271828
[ "$(cat nopace-can.rc)" = 1 ] || fail "CAN on a BAC-only chip accepted"
grep -q "offers no PACE" nopace-can.err || fail "CAN on a BAC chip: $(cat nopace-can.err)"
# 7. an independent chip: vsmartcard's ePass emulation (its own BAC, key
# derivation, SSC and secure messaging) holding a civreg package without DG15
"$CIVREG" chip personalize --data "$D" --mrz-lines mrz.txt \
    --photo "$SRC/tests/data/icao/face-120x160.jpg" --out pkg-epass \
    --user officer --password-file officer.pw > /dev/null 2>&1 || fail "personalize for ePass"
if [ -n "$EMU_PID" ]; then stop_pid "$EMU_PID"; fi
/usr/bin/python3 "$SRC/tests/integration/epass_chip.py" pkg-epass "$PORT" 2> epass.log &
EMU_PID=$!
wait_vpcd epass.log "the ePass chip did not start"
read_chip epass --mrz "$(cat mrz.txt)" --out read-epass
# pcscd may still power the newly inserted card up (a reset of the
# emulator's session) while the first read runs on a loaded machine:
# that read ends with the chip's "session is over"; read once more
if [ "$(cat epass.rc)" != 0 ] && grep -q "session is over" epass.err; then
    echo "chip_reader: the ePass session was reset during the first read, reading again" >&2
    rm -rf read-epass
    sleep 1
    read_chip epass --mrz "$(cat mrz.txt)" --out read-epass
fi
[ "$(cat epass.rc)" = 0 ] || fail "the ePass chip was not read: $(cat epass.err) $(tail -5 epass.log)"
[ "$(json epass.json 'r["access"]["protocol"]')" = BAC ] || fail "ePass: not BAC"
for f in 011E 0101 0102 011D; do
    cmp -s "pkg-epass/$f" "read-epass/$f" || fail "ePass: $f read differs from the package"
done
read_chip epass-wrong --mrz "$(cat wrong.txt)"
[ "$(cat epass-wrong.rc)" = 1 ] || fail "ePass: a wrong MRZ was accepted"
grep -q "access control failed" epass-wrong.err || fail "ePass wrong MRZ: $(cat epass-wrong.err)"
echo "chip_reader: all cases passed"
