/* Fuzz: APDU responses are hostile input. The first byte picks the path:
 *   0 the inspection system (rd_inspect) against a chip that completes a
 *     genuine BAC and then answers every protected command with status words
 *     and data taken from the input, correctly wrapped in secure messaging:
 *     file lengths, TLV headers, EF.COM tag lists, short or endless files,
 *     INTERNAL AUTHENTICATE answers are all the attacker's;
 *   1 the same reader against raw responses from the input from the first
 *     command on (SELECT, GET CHALLENGE, EXTERNAL AUTHENTICATE);
 *   2 the virtual chip against commands from the input, in the clear and,
 *     after a genuine BAC, protected by the harness.
 * Input chunks are [length hi, length lo, bytes...]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "issuance/reader/reader.h"
#include "issuance/reader/reader_int.h"

static const char mrz[] = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
                          "L898902C36UTO7408122F1204159ZE184226B<<<<<10\n";

struct feed {
    const uint8_t *p;
    size_t n;
};

/* Next chunk of the input; 0 when exhausted. */
static int next_chunk(struct feed *f, const uint8_t **c, size_t *len)
{
    size_t l;
    if (f->n < 2)
        return 0;
    l = ((size_t)f->p[0] << 8) | f->p[1];
    f->p += 2;
    f->n -= 2;
    if (l > f->n)
        l = f->n;
    *c = f->p;
    *len = l;
    f->p += l;
    f->n -= l;
    return 1;
}

struct fake {
    struct feed f;
    bool raw;
    bool sm_on;
    unsigned char kenc[16], kmac[16], rnd[8];
    struct sm_ctx sm;
};

static int fake_transmit(void *ctx, const unsigned char *cmd, size_t len, struct buf *resp,
                         struct err *err)
{
    struct fake *k = ctx;
    struct apdu a, o;
    struct buf plain = BUF_INIT(APDU_MAX);
    const uint8_t *c;
    size_t cl;
    int rc = 0;

    buf_reset(resp);
    if (k->raw) {
        if (!next_chunk(&k->f, &c, &cl))
            return err_set(err, "end of input");
        return buf_append(resp, c, cl) == 0 ? 0 : err_set(err, "oom");
    }
    if (apdu_parse(cmd, len, &a, err) != 0)
        abort(); /* the reader only sends well-formed APDUs */
    if (!k->sm_on) {
        if (a.ins == 0xA4 && a.lc == 2 && a.data[0] == 0x01 && a.data[1] == 0x1C)
            return buf_append(resp, "\x6A\x82", 2) == 0 ? 0 : err_set(err, "oom"); /* BAC chip */
        if (a.ins == 0x84)
            rc = buf_append(resp, k->rnd, 8);
        else if (a.ins == 0x82) {
            unsigned char kicc[16] = { 7 }, r[40];
            if (a.lc != 40 ||
                bac_icc_answer(k->kenc, k->kmac, k->rnd, kicc, a.data, r, &k->sm, NULL) != 0)
                abort(); /* our own reader's BAC must succeed */
            k->sm_on = true;
            rc = buf_append(resp, r, 40);
        }
        return rc == 0 && buf_append(resp, "\x90\x00", 2) == 0 ? 0 : err_set(err, "oom");
    }
    if (sm_unwrap_command(&k->sm, &a, &plain, &o, NULL) != 0)
        abort(); /* our own reader's protection must open */
    buf_release(&plain);
    if (!next_chunk(&k->f, &c, &cl) || cl < 2)
        return buf_append(resp, "\x6A\x82", 2) == 0 ? 0 : err_set(err, "oom");
    return sm_wrap_response(&k->sm, c + 2, cl - 2, ((unsigned)c[0] << 8) | c[1], resp, err);
}

static char pkgdir[64];

static void remove_package(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/0101", pkgdir);
    unlink(path);
    snprintf(path, sizeof path, "%s/011E", pkgdir);
    unlink(path);
    rmdir(pkgdir);
}

static void make_package(void)
{
    static const char com[] = "\x60\x16\x5F\x01\x04" "0107" "\x5F\x36\x06" "040000"
                              "\x5C\x02\x61\x75";
    unsigned char dg1[93] = { 0x61, 0x5B, 0x5F, 0x1F, 0x58 };
    size_t k = 5;
    char path[128];
    FILE *f;
    if (pkgdir[0])
        return;
    snprintf(pkgdir, sizeof pkgdir, "/tmp/civreg-fuzz-chip-XXXXXX");
    if (mkdtemp(pkgdir) == NULL)
        abort();
    atexit(remove_package);
    for (const char *m = mrz; *m; m++)
        if (*m != '\n')
            dg1[k++] = (unsigned char)*m;
    snprintf(path, sizeof path, "%s/0101", pkgdir);
    if ((f = fopen(path, "wb")) == NULL)
        abort();
    fwrite(dg1, 1, sizeof dg1, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/011E", pkgdir);
    if ((f = fopen(path, "wb")) == NULL)
        abort();
    fwrite(com, 1, sizeof com - 1, f);
    fclose(f);
}

static void chip_side(struct feed *f)
{
    struct vchip *c = NULL;
    struct buf r = BUF_INIT(RESP_MAX), w = BUF_INIT(APDU_MAX), d = BUF_INIT(RESP_MAX);
    const uint8_t *p;
    size_t n;
    int count = 0;
    bool sm = false;
    struct sm_ctx s;

    make_package();
    if (vchip_open(pkgdir, &c, NULL) != 0)
        abort();
    while (next_chunk(f, &p, &n) && count++ < 64) {
        struct apdu a;
        if (n == 1 && p[0] == 0xBA) { /* a genuine BAC, then protected commands */
            char info[BAC_MRZ_INFO_MAX + 1];
            unsigned char seed[16], kenc[16], kmac[16], rifd[8] = { 1 }, kifd[16] = { 2 };
            unsigned char cmd[46] = { 0x00, 0x82, 0x00, 0x00, 0x28 }, rnd[8];
            if (bac_mrz_info(mrz, info, NULL) != 0 || bac_keys(info, seed, kenc, kmac, NULL) != 0 ||
                vchip_apdu(c, (const unsigned char *)"\x00\x84\x00\x00\x08", 5, &r) != 0 ||
                r.len != 10)
                abort();
            memcpy(rnd, r.data, 8);
            if (bac_ifd_command(kenc, kmac, rnd, rifd, kifd, cmd + 5, NULL) != 0)
                abort();
            cmd[45] = 0x28;
            if (vchip_apdu(c, cmd, sizeof cmd, &r) != 0 || r.len != 42 ||
                bac_ifd_finish(kenc, kmac, rnd, rifd, kifd, r.data, &s, NULL) != 0)
                abort(); /* the chip must accept a genuine BAC at any point */
            sm = true;
            continue;
        }
        buf_reset(&w);
        if (sm && apdu_parse(p, n, &a, NULL) == 0 && sm_wrap_command(&s, &a, &w, NULL) == 0) {
            unsigned sw;
            if (vchip_apdu(c, w.data, w.len, &r) != 0)
                abort();
            if (sm_unwrap_response(&s, r.data, r.len, &d, &sw, NULL) != 0)
                sm = false; /* the chip ended the session */
            continue;
        }
        if (vchip_apdu(c, p, n, &r) != 0 || r.len < 2)
            abort(); /* the chip always answers with a status word */
        sm = false;
    }
    vchip_free(c);
    buf_release(&r);
    buf_release(&w);
    buf_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct feed f;
    if (size < 1 || size > 65536)
        return 0;
    f.p = data + 1;
    f.n = size - 1;
    if (data[0] % 3 == 2) {
        chip_side(&f);
        return 0;
    }
    {
        struct fake k = { .f = f, .raw = data[0] % 3 == 1 };
        char info[BAC_MRZ_INFO_MAX + 1];
        unsigned char seed[16];
        struct pa_trust *trust = NULL;
        struct rd_transport t = { fake_transmit, &k };
        struct rd_options o = { .mrz = mrz, .now = 1700000000, .chunk = 0xDF };
        struct chip_package files;
        json_t *rep = NULL;
        bool valid = false;
        memset(k.rnd, 0x42, 8);
        if (bac_mrz_info(mrz, info, NULL) != 0 || bac_keys(info, seed, k.kenc, k.kmac, NULL) != 0 ||
            pa_trust_new(&trust, NULL) != 0)
            abort();
        o.trust = trust;
        if (rd_inspect(&t, &o, &files, &rep, &valid, NULL) == 0) {
            if (valid)
                abort(); /* no CSCA trusted: nothing can be valid */
            chip_package_release(&files);
            json_decref(rep);
        }
        pa_trust_free(trust);
    }
    return 0;
}
