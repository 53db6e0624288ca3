/* The virtual chip and the inspection system in-process (no pcscd): the
 * access rules of a real eMRTD (nothing LDS before BAC, every command under
 * secure messaging after it, a plain command or a wrong MAC ends the
 * session, one BAC try per challenge), the reader over the chip with short
 * and extended READ BINARY, and a reader facing a chip that lies. The
 * package is personalized by the real civreg binary. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "issuance/reader/reader.h"
#include "issuance/reader/reader_int.h"
#include "support/cmocka_main.h"
#include "support/support.h"

static char *dir;
static char pkg[1024], csca[1024];
static const char mrz[] = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
                          "L898902C36UTO7408122F1204159ZE184226B<<<<<10\n";

static int setup(void **state)
{
    char p[2048];
    (void)state;
    dir = tmp_dir_paths("vchip", (const struct tmp_path[]){ TMP_PATH(pkg, "pkg"),
                                                            TMP_PATH(csca, "csca.pem"),
                                                            TMP_PATH(p, "mrz.txt"), { 0 } });
    if (dir == NULL)
        return -1;
    file_write(p, mrz, strlen(mrz));
    if (pw_file(dir, "a", "nimda-tundra-ferns-61", p, sizeof p) != 0 ||
        pw_file(dir, "o", "reciffo-tundra-ferns-61", p, sizeof p) != 0)
        return -1;
    sh_ok("cd '%s' && B='%s' && $B init --data data >/dev/null 2>&1 && "
          "$B user add --data data --username admin --role admin < a.pw >/dev/null 2>&1 && "
          "$B user add --data data --username officer --role issuance_operator --user admin "
          "--password-file a.pw < o.pw >/dev/null 2>&1 && "
          "$B pki init --data data --country UT --user admin --password-file a.pw >/dev/null 2>&1 && "
          "$B pki issue-ds --data data --user admin --password-file a.pw >/dev/null 2>&1 && "
          "$B pki export csca --data data > csca.pem && "
          "$B chip personalize --data data --mrz-lines mrz.txt --photo '%s/icao/face-120x160.jpg' "
          "--aa ecdsa-p256 --out pkg --user officer --password-file o.pw >/dev/null 2>&1",
          dir, CIVREG_BIN, CIVREG_TEST_DATA);
    return 0;
}

TMP_DIR_TEARDOWN(dir)

/* Send a plain APDU given in hex; return the status word, DATA (may be NULL)
 * the response data. */
static unsigned plain(struct vchip *c, const char *hex, struct buf *data)
{
    unsigned char cmd[300];
    size_t n = strlen(hex) / 2;
    struct buf r = BUF_INIT(RESP_MAX);
    unsigned sw;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        char h[3] = { hex[2 * i], hex[2 * i + 1], 0 };
        v = (unsigned)strtoul(h, NULL, 16);
        cmd[i] = (unsigned char)v;
    }
    assert_int_equal(vchip_apdu(c, cmd, n, &r), 0);
    assert_true(r.len >= 2);
    sw = ((unsigned)r.data[r.len - 2] << 8) | r.data[r.len - 1];
    if (data) {
        buf_reset(data);
        assert_int_equal(buf_append(data, r.data, r.len - 2), 0);
    }
    buf_release(&r);
    return sw;
}

/* BAC as the inspection system, step by step; SM gets the session */
static void do_bac(struct vchip *c, struct sm_ctx *sm)
{
    char info[BAC_MRZ_INFO_MAX + 1], hex[120];
    unsigned char seed[16], kenc[16], kmac[16], rnd_ifd[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    unsigned char k_ifd[16] = { 9 }, cmd[40], rnd_icc[8];
    struct buf d = BUF_INIT(RESP_MAX);
    struct err e = ERR_INIT;
    assert_int_equal(bac_mrz_info(mrz, info, &e), 0);
    assert_int_equal(bac_keys(info, seed, kenc, kmac, &e), 0);
    assert_int_equal(plain(c, "0084000008", &d), 0x9000);
    assert_int_equal(d.len, 8);
    memcpy(rnd_icc, d.data, 8);
    assert_int_equal(bac_ifd_command(kenc, kmac, rnd_icc, rnd_ifd, k_ifd, cmd, &e), 0);
    memcpy(hex, "0082000028", 10);
    for (int i = 0; i < 40; i++)
        snprintf(hex + 10 + 2 * i, 3, "%02X", cmd[i]);
    memcpy(hex + 90, "28", 3);
    assert_int_equal(plain(c, hex, &d), 0x9000);
    assert_int_equal(d.len, 40);
    assert_int_equal(bac_ifd_finish(kenc, kmac, rnd_icc, rnd_ifd, k_ifd, d.data, sm, &e), 0);
    buf_release(&d);
}

/* One protected command; returns the SW, or -1 when the response does not
 * open (the session is over). */
static int protected(struct vchip *c, struct sm_ctx *sm, const struct apdu *a, struct buf *data,
                     bool flip_mac)
{
    struct buf cmd = BUF_INIT(APDU_MAX), r = BUF_INIT(RESP_MAX);
    struct err e = ERR_INIT;
    unsigned sw = 0;
    int rc;
    assert_int_equal(sm_wrap_command(sm, a, &cmd, &e), 0);
    if (flip_mac)
        cmd.data[cmd.len - 2] ^= 0x01; /* last MAC byte (before Le) */
    assert_int_equal(vchip_apdu(c, cmd.data, cmd.len, &r), 0);
    rc = sm_unwrap_response(sm, r.data, r.len, data, &sw, &e) == 0 ? (int)sw : -1;
    buf_release(&cmd);
    buf_release(&r);
    return rc;
}

static void test_access_rules(void **state)
{
    struct vchip *c = NULL;
    struct err e = ERR_INIT;
    struct sm_ctx sm;
    struct buf d = BUF_INIT(RESP_MAX);
    static const unsigned char com[2] = { 0x01, 0x1E };
    struct apdu sel = { .ins = 0xA4, .p1 = 0x02, .p2 = 0x0C, .data = com, .lc = 2 };
    struct apdu rb = { .ins = 0xB0, .le_present = true, .le = 4 };
    (void)state;
    assert_int_equal(vchip_open(pkg, &c, &e), 0);

    /* before access control: the application only */
    assert_int_equal(plain(c, "00A4040C07A0000002471001", NULL), 0x9000);
    assert_int_equal(plain(c, "00A4020C02011E", NULL), 0x6982);      /* SELECT EF.COM */
    assert_int_equal(plain(c, "00A4020C020101", NULL), 0x6982);      /* SELECT DG1 */
    assert_int_equal(plain(c, "00B0810000", NULL), 0x6982);          /* READ BINARY by SFI */
    assert_int_equal(plain(c, "00B09E0000", NULL), 0x6982);
    assert_int_equal(plain(c, "00B0000000", NULL), 0x6982);          /* no EF selected */
    assert_int_equal(plain(c, "00880000080102030405060708", NULL), 0x6982); /* AA */
    assert_int_equal(plain(c, "00820000280000", NULL), 0x6700);      /* malformed */
    assert_int_equal(plain(c, "0CB0000004", NULL), 0x6988);          /* SM without session */
    assert_int_equal(plain(c, "00A4020C02011C", NULL), 0x6A82);      /* no EF.CardAccess */

    /* BAC; then the LDS is readable under secure messaging */
    do_bac(c, &sm);
    assert_int_equal(protected(c, &sm, &sel, &d, false), 0x9000);
    assert_int_equal(protected(c, &sm, &rb, &d, false), 0x9000);
    assert_int_equal(d.len, 4);
    assert_int_equal(d.data[0], 0x60);

    /* a plain command inside the session ends it */
    assert_int_equal(plain(c, "00B0000004", NULL), 0x6987);
    assert_int_equal(vchip_aborted_sessions(c), 1);
    /* the old keys are worthless now: the chip answers in the clear */
    assert_int_equal(protected(c, &sm, &rb, &d, false), -1);
    assert_int_equal(plain(c, "00A4020C02011E", NULL), 0x6982);

    /* a wrong MAC ends the session too */
    assert_int_equal(plain(c, "00A4040C07A0000002471001", NULL), 0x9000);
    do_bac(c, &sm);
    assert_int_equal(protected(c, &sm, &sel, &d, false), 0x9000);
    assert_int_equal(protected(c, &sm, &rb, &d, true), -1);
    assert_int_equal(vchip_aborted_sessions(c), 2);
    assert_int_equal(plain(c, "00B0000004", NULL), 0x6982);

    /* EXTERNAL AUTHENTICATE without a fresh challenge */
    {
        char hex[100];
        memcpy(hex, "0082000028", 10);
        memset(hex + 10, '0', 80);
        memcpy(hex + 90, "28", 3);
        assert_int_equal(plain(c, hex, NULL), 0x6985);
    }
    vchip_free(c);
    buf_release(&d);
}

static const char *inspect_pkg;
static const char *inspect_can;
static const char *want_protocol = "BAC";
static const char *want_mapping; /* the PACE mapping the report names, when set */

static void inspect(const char *m, size_t chunk, bool extended, int want_rc, bool want_valid,
                    const char *want_msg)
{
    struct vchip *c = NULL;
    struct pa_trust *trust = NULL;
    struct rd_transport t;
    struct rd_options o = { .mrz = m, .can = inspect_can, .now = time(NULL), .chunk = chunk,
                            .extended = extended };
    struct chip_package files;
    json_t *rep = NULL;
    bool valid = false;
    struct err e = ERR_INIT;
    size_t len;
    char *pem = file_read(csca, &len);
    int rc;

    assert_non_null(pem);
    assert_int_equal(pa_trust_new(&trust, &e), 0);
    assert_int_equal(pa_trust_add_csca(trust, (unsigned char *)pem, len, "csca", &e), 0);
    o.trust = trust;
    assert_int_equal(vchip_open(inspect_pkg ? inspect_pkg : pkg, &c, &e), 0);
    assert_int_equal(vchip_set_can(c, "314159", &e), 0);
    rd_transport_vchip(&t, c);
    rc = rd_inspect(&t, &o, &files, &rep, &valid, &e);
    if (rc != want_rc)
        fail_msg("rd_inspect returned %d: %s", rc, err_msg(&e));
    if (rc == 0) {
        assert_int_equal(valid, want_valid);
        assert_string_equal(json_string_value(json_object_get(json_object_get(rep, "access"),
                                                              "protocol")),
                            want_protocol);
        if (want_mapping)
            assert_string_equal(json_string_value(json_object_get(json_object_get(rep, "access"),
                                                                  "mapping")),
                                want_mapping);
        assert_string_equal(json_string_value(json_object_get(json_object_get(rep, "aa"),
                                                              "status")),
                            "valid");
        assert_int_equal(files.n, 5); /* EF.COM DG1 DG2 DG15 EF.SOD */
        chip_package_release(&files);
    } else if (strstr(err_msg(&e), want_msg) == NULL)
        fail_msg("message '%s' lacks '%s'", err_msg(&e), want_msg);
    json_decref(rep);
    vchip_free(c);
    pa_trust_free(trust);
    free(pem);
}

static void test_inspect_in_process(void **state)
{
    (void)state;
    inspect(mrz, 0, false, 0, true, NULL);      /* 223-byte chunks */
    inspect(mrz, 16, false, 0, true, NULL);     /* many small reads */
    inspect(mrz, 4096, true, 0, true, NULL);    /* extended length */
    inspect("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
            "L898902C<3UTO6908061F9406236ZE184226B<<<<<14\n",
            0, false, -1, false, "access control failed");
}

/* The chip in inspect_pkg through PACE: with the MRZ (short and extended
 * reads) and the right CAN it reads; a wrong CAN and another passport's MRZ
 * are refused. */
static void pace_inspections(void)
{
    inspect(mrz, 0, false, 0, true, NULL);
    inspect(mrz, 1000, true, 0, true, NULL);
    inspect_can = "314159";
    inspect(NULL, 0, false, 0, true, NULL);
    inspect_can = "314158";
    inspect(NULL, 0, false, -1, false, "access control failed: the chip refused PACE");
    inspect_can = NULL;
    inspect("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
            "L898902C<3UTO6908061F9406236ZE184226B<<<<<14\n",
            0, false, -1, false, "access control failed");
}

/* PACE: EF.CardAccess offers it; MRZ and CAN; a wrong CAN */
static void test_pace_in_process(void **state)
{
    char p2[1200], ca[1300];
    struct buf b = BUF_INIT(256);
    struct err e = ERR_INIT;
    (void)state;
    snprintf(p2, sizeof p2, "%s/pkg-pace", dir);
    sh_ok("cp -r '%s' '%s'", pkg, p2);
    assert_int_equal(rd_card_access_pace(12, &b, &e), 0); /* NIST P-256 this time */
    snprintf(ca, sizeof ca, "%s/011C", p2);
    assert_int_equal(file_write(ca, b.data, b.len), 0);
    buf_release(&b);
    inspect_pkg = p2;
    want_protocol = "PACE";
    pace_inspections();
    inspect_pkg = NULL;
    want_protocol = "BAC";
    inspect_can = "314159"; /* the BAC-only chip: no PACE, no CAN */
    inspect(NULL, 0, false, -1, false, "offers no PACE");
    inspect_can = NULL;
}

/* PACE with the integrated mapping: EF.CardAccess offers only ECDH-IM, so
 * the reader uses it (both curves, MRZ and CAN, a wrong CAN refused); a chip
 * offering both mappings is read with the generic one. */
static void write_ca(const char *p2, int param)
{
    char ca[1300];
    struct buf b = BUF_INIT(256);
    struct err e = ERR_INIT;
    snprintf(ca, sizeof ca, "%s/011C", p2);
    assert_int_equal(rd_card_access_pace(param, &b, &e), 0);
    assert_int_equal(file_write(ca, b.data, b.len), 0);
    buf_release(&b);
}

static void test_pace_im_in_process(void **state)
{
    char p2[1200], ca[1300];
    struct buf gm = BUF_INIT(64), im = BUF_INIT(64), both = BUF_INIT(128);
    struct err e = ERR_INIT;
    (void)state;
    snprintf(p2, sizeof p2, "%s/pkg-pace-im", dir);
    sh_ok("cp -r '%s' '%s'", pkg, p2);
    write_ca(p2, 13 | RD_PACE_IM);
    inspect_pkg = p2;
    want_protocol = "PACE";
    want_mapping = "integrated, ECDH";
    pace_inspections();
    write_ca(p2, 12 | RD_PACE_IM); /* NIST P-256 */
    inspect(mrz, 0, false, 0, true, NULL);
    /* both offered, in one SET: IM first, GM second; the reader takes GM */
    assert_int_equal(rd_card_access_pace(13 | RD_PACE_IM, &im, &e), 0);
    assert_int_equal(rd_card_access_pace(13, &gm, &e), 0);
    assert_true(im.len < 120 && gm.len < 120 && im.data[0] == 0x31 && gm.data[0] == 0x31);
    assert_int_equal(buf_append(&both, (const unsigned char *)"\x31", 1), 0);
    {
        unsigned char l = (unsigned char)(im.len - 2 + gm.len - 2);
        assert_int_equal(buf_append(&both, &l, 1), 0);
    }
    assert_int_equal(buf_append(&both, im.data + 2, im.len - 2), 0);
    assert_int_equal(buf_append(&both, gm.data + 2, gm.len - 2), 0);
    snprintf(ca, sizeof ca, "%s/011C", p2);
    assert_int_equal(file_write(ca, both.data, both.len), 0);
    want_mapping = "generic, ECDH";
    inspect(mrz, 0, false, 0, true, NULL);
    buf_release(&gm);
    buf_release(&im);
    buf_release(&both);
    inspect_pkg = NULL;
    want_protocol = "BAC";
    want_mapping = NULL;
}

/* A chip that lies: after BAC, every response passes through a filter. */
struct liar {
    struct vchip *c;
    int mode;
    unsigned n;
};

static int liar_transmit(void *ctx, const unsigned char *cmd, size_t len, struct buf *resp,
                         struct err *err)
{
    struct liar *l = ctx;
    if (vchip_apdu(l->c, cmd, len, resp) != 0)
        return err_set(err, "oom");
    l->n++;
    if (l->n < 4) /* SELECT, GET CHALLENGE, EXTERNAL AUTHENTICATE pass */
        return 0;
    switch (l->mode) {
    case 0: resp->data[0] ^= 0x80; break;         /* a flipped bit */
    case 1: resp->len = 1; break;                  /* no status word */
    case 2: resp->data[0] = 0x90; resp->data[1] = 0x00; resp->len = 2; break; /* plain 9000 */
    case 3: /* the response of the previous command replayed */
        break;
    }
    return 0;
}

static void test_hostile_chip(void **state)
{
    (void)state;
    for (int mode = 0; mode < 3; mode++) {
        struct liar l = { .mode = mode };
        struct pa_trust *trust = NULL;
        struct rd_transport t = { liar_transmit, &l };
        struct rd_options o = { .mrz = mrz, .now = time(NULL) };
        struct chip_package files;
        json_t *rep = NULL;
        bool valid = true;
        struct err e = ERR_INIT;
        assert_int_equal(pa_trust_new(&trust, &e), 0);
        o.trust = trust;
        assert_int_equal(vchip_open(pkg, &l.c, &e), 0);
        assert_int_equal(rd_inspect(&t, &o, &files, &rep, &valid, &e), -1);
        assert_null(rep);
        assert_false(valid);
        vchip_free(l.c);
        pa_trust_free(trust);
    }
}

/* Chip Authentication (DG14): a genuine chip passes, AA and PACE as well;
 * a clone whose private key does not match DG14 fails it while passive
 * authentication and AA still hold; `chip verify` checks DG14. */
static json_t *inspect_report(const char *package, bool pace_can, bool *valid)
{
    struct vchip *c = NULL;
    struct pa_trust *trust = NULL;
    struct rd_transport t;
    struct rd_options o = { .mrz = pace_can ? NULL : mrz, .can = pace_can ? "314159" : NULL,
                            .now = time(NULL) };
    struct chip_package files;
    json_t *rep = NULL;
    struct err e = ERR_INIT;
    size_t len;
    char *pem = file_read(csca, &len);

    assert_non_null(pem);
    assert_int_equal(pa_trust_new(&trust, &e), 0);
    assert_int_equal(pa_trust_add_csca(trust, (unsigned char *)pem, len, "csca", &e), 0);
    o.trust = trust;
    if (vchip_open(package, &c, &e) != 0)
        fail_msg("vchip_open: %s", err_msg(&e));
    assert_int_equal(vchip_set_can(c, "314159", &e), 0);
    rd_transport_vchip(&t, c);
    if (rd_inspect(&t, &o, &files, &rep, valid, &e) != 0)
        fail_msg("rd_inspect: %s", err_msg(&e));
    chip_package_release(&files);
    vchip_free(c);
    pa_trust_free(trust);
    free(pem);
    return rep;
}

static const char *ca_status(json_t *rep)
{
    return json_string_value(json_object_get(json_object_get(rep, "ca"), "status"));
}

static bool check_valid(json_t *rep, const char *name)
{
    size_t i;
    json_t *ch;
    json_array_foreach(json_object_get(rep, "checks"), i, ch)
        if (strcmp(json_string_value(json_object_get(ch, "check")), name) == 0)
            return json_is_true(json_object_get(ch, "valid"));
    fail_msg("no check %s", name);
    return false;
}

static void test_chip_auth_in_process(void **state)
{
    char ca[1200], clone[1200], out[1400];
    json_t *rep;
    bool valid = false;
    (void)state;
    snprintf(ca, sizeof ca, "%s/pkg-ca", dir);
    snprintf(clone, sizeof clone, "%s/pkg-ca-clone", dir);
    sh_ok("cd '%s' && '%s' chip personalize --data data --mrz-lines mrz.txt --photo "
          "'%s/icao/face-120x160.jpg' --aa ecdsa-p256 --ca --pace --out pkg-ca --user officer "
          "--password-file o.pw >/dev/null 2>&1 && test -s pkg-ca/010E && "
          "test \"$(stat -c %%a pkg-ca/ca-private-key.p8)\" = 600",
          dir, CIVREG_BIN, CIVREG_TEST_DATA);
    /* a genuine chip: PACE (MRZ and CAN), AA and CA */
    rep = inspect_report(ca, false, &valid);
    assert_true(valid);
    assert_string_equal(ca_status(rep), "passed");
    assert_true(check_valid(rep, "chip_authentication"));
    assert_true(check_valid(rep, "dg14_structure"));
    assert_true(check_valid(rep, "dg14_hash"));
    assert_true(check_valid(rep, "active_authentication"));
    json_decref(rep);
    rep = inspect_report(ca, true, &valid);
    assert_true(valid);
    assert_string_equal(ca_status(rep), "passed");
    json_decref(rep);
    /* the same with BAC: remove EF.CardAccess */
    sh_ok("cp -r '%s' '%s-bac' && rm '%s-bac/011C'", ca, ca, ca);
    snprintf(out, sizeof out, "%s-bac", ca);
    rep = inspect_report(out, false, &valid);
    assert_true(valid);
    assert_string_equal(ca_status(rep), "passed");
    json_decref(rep);
    /* a clone: the same signed files, another CA private key on the curve */
    sh_ok("cp -r '%s' '%s' && rm '%s/ca-private-key.p8' && openssl genpkey -algorithm EC "
          "-pkeyopt ec_paramgen_curve:brainpoolP256r1 -outform DER -out "
          "'%s/ca-private-key.p8' 2>/dev/null",
          ca, clone, clone, clone);
    rep = inspect_report(clone, false, &valid);
    assert_false(valid);
    assert_string_equal(ca_status(rep), "failed");
    assert_false(check_valid(rep, "chip_authentication"));
    assert_true(check_valid(rep, "active_authentication")); /* AA alone does not tell */
    assert_true(check_valid(rep, "sod_signature"));
    assert_non_null(strstr(json_string_value(json_object_get(json_object_get(rep, "ca"),
                                                             "message")),
                           "does not hold the private key"));
    json_decref(rep);
    /* chip verify: DG14 parses and is hashed in EF.SOD; a flipped byte in
     * DG14 fails its hash */
    sh_ok("cd '%s' && '%s' chip verify pkg-ca --csca csca.pem | tr -d ' \\n' > v.json && "
          "grep -q '\"dg14_structure\",\"valid\":true' v.json && "
          "grep -q '\"dg14_hash\",\"valid\":true' v.json && cp -r pkg-ca pkg-ca-bad && "
          "printf '\\001' | dd of=pkg-ca-bad/010E bs=1 seek=60 conv=notrunc 2>/dev/null && "
          "! '%s' chip verify pkg-ca-bad --csca csca.pem > vb.json 2>/dev/null && "
          "tr -d ' \\n' < vb.json | grep -q '\"dg14_hash\",\"valid\":false'",
          dir, CIVREG_BIN, CIVREG_BIN);
}

/* A stand-in for pcscd's vpcd driver on loopback: 20 "ATR?" requests
 * sent at once, then it counts the bytes the chip answers until the chip
 * hangs up (or 10 s pass). */
struct fake_vpcd {
    int listen_fd;
    size_t answered;
};

static void *fake_vpcd_run(void *arg)
{
    struct fake_vpcd *v = arg;
    struct timeval tv = { 10, 0 };
    unsigned char buf[512];
    ssize_t r;
    int fd = accept(v->listen_fd, NULL, NULL);

    if (fd < 0)
        return NULL;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (int i = 0; i < 20; i++)
        if (write(fd, "\x00\x01\x04", 3) != 3)
            break;
    shutdown(fd, SHUT_WR);
    while ((r = read(fd, buf, sizeof buf)) > 0)
        v->answered += (size_t)r;
    close(fd);
    return NULL;
}

/* How many bytes the virtual chip answers to 20 requests when STOP is
 * already set as it starts serving. */
static size_t serve_with_stop(sig_atomic_t stop_value)
{
    struct fake_vpcd v = { -1, 0 };
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t alen = sizeof a;
    volatile sig_atomic_t stop = stop_value;
    struct vchip *c = NULL;
    struct err e = ERR_INIT;
    pthread_t th;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    v.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(v.listen_fd >= 0);
    assert_int_equal(bind(v.listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(v.listen_fd, 1), 0);
    assert_int_equal(getsockname(v.listen_fd, (struct sockaddr *)&a, &alen), 0);
    assert_int_equal(pthread_create(&th, NULL, fake_vpcd_run, &v), 0);
    assert_int_equal(vchip_open(pkg, &c, &e), 0);
    if (vchip_serve_vpcd(c, "127.0.0.1", ntohs(a.sin_port), 5, &stop, NULL, &e) != 0)
        fail_msg("serving the fake vpcd: %s", err_msg(&e));
    vchip_free(c);
    pthread_join(th, NULL);
    close(v.listen_fd);
    return v.answered;
}

/* `chip emulate` stops on SIGTERM even when the signal comes while it is
 * not blocked in read(): pcscd's presence polls keep every read answering,
 * so waiting for EINTR alone kept the chip serving (and a caller waiting
 * for it) forever. A stop already set answers nothing. */
static void test_stop_outside_read(void **state)
{
    (void)state;
    assert_true(serve_with_stop(0) > 0);
    assert_int_equal(serve_with_stop(1), 0);
}

CMOCKA_MAIN(setup, teardown, test_access_rules, test_inspect_in_process, test_pace_in_process,
            test_pace_im_in_process, test_hostile_chip, test_chip_auth_in_process,
            test_stop_outside_read)
