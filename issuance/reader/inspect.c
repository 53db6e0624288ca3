/* civreg issuance/reader: the inspection system (Doc 9303-11 §4, §5, §6):
 * SELECT the eMRTD application, Basic Access Control, read EF.COM, every data
 * group it lists and EF.SOD under secure messaging, then passive
 * authentication (issuance/passive_auth.c) and Active Authentication.
 * Every response is hostile input: status words, lengths and TLVs are
 * checked before use, and a secure-messaging fault ends the inspection. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/secret.h"
#include "issuance/icao/icao.h"
#include "reader.h"
#include "reader_int.h"

static const unsigned char emrtd_aid[7] = { 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01 };
#define READ_OFFSET_MAX 0x7FFF /* READ BINARY with even INS: 15-bit offsets */

struct sess {
    const struct rd_transport *t;
    bool sm;
    struct sm_ctx ctx;
    unsigned apdus;
};

static double ms_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

/* One command: protected when a session is open. DATA gets the response
 * data, *SW the status word. */
static int xfer(struct sess *s, const struct apdu *a, struct buf *data, unsigned *sw,
                struct err *err)
{
    struct buf cmd = BUF_INIT(APDU_MAX), resp = BUF_INIT(RESP_MAX);
    int rc = -1;

    s->apdus++;
    if ((s->sm ? sm_wrap_command(&s->ctx, a, &cmd, err) : apdu_encode(a, &cmd, err)) != 0)
        goto out;
    if (s->t->transmit(s->t->ctx, cmd.data, cmd.len, &resp, err) != 0)
        goto out;
    if (resp.len < 2) {
        err_set(err, "chip: response of %zu bytes has no status word", resp.len);
        goto out;
    }
    if (s->sm) {
        if (sm_unwrap_response(&s->ctx, resp.data, resp.len, data, sw, err) != 0) {
            sm_wipe(&s->ctx);
            s->sm = false;
            goto out;
        }
    } else {
        *sw = ((unsigned)resp.data[resp.len - 2] << 8) | resp.data[resp.len - 1];
        buf_reset(data);
        if (buf_append(data, resp.data, resp.len - 2) != 0) {
            err_set(err, "chip: response too long");
            goto out;
        }
    }
    if (a->le_present && data->len > a->le) {
        err_set(err, "chip: %zu bytes answered where at most %zu were asked", data->len, a->le);
        goto out;
    }
    rc = 0;
out:
    buf_release(&cmd);
    buf_release_secret(&resp);
    return rc;
}

static int bac(struct sess *s, const char *mrz, struct err *err)
{
    char info[BAC_MRZ_INFO_MAX + 1];
    unsigned char seed[16], kenc[16], kmac[16], rnd_ifd[8], k_ifd[16], cmd[40];
    unsigned char rnd_icc[8];
    struct buf d = BUF_INIT(256);
    unsigned sw = 0;
    int rc = -1;
    struct apdu gc = { .ins = 0x84, .le_present = true, .le = 8 };
    struct apdu ea = { .ins = 0x82, .data = cmd, .lc = 40, .le_present = true, .le = 40 };

    if (bac_mrz_info(mrz, info, err) != 0 || bac_keys(info, seed, kenc, kmac, err) != 0)
        goto out;
    if (xfer(s, &gc, &d, &sw, err) != 0)
        goto out;
    if (sw != SW_OK || d.len != 8) {
        err_set(err, "access control: GET CHALLENGE answered %04X with %zu bytes", sw, d.len);
        goto out;
    }
    memcpy(rnd_icc, d.data, 8);
    secret_random(rnd_ifd, sizeof rnd_ifd);
    secret_random(k_ifd, sizeof k_ifd);
    if (bac_ifd_command(kenc, kmac, rnd_icc, rnd_ifd, k_ifd, cmd, err) != 0 ||
        xfer(s, &ea, &d, &sw, err) != 0)
        goto out;
    if (sw != SW_OK || d.len != 40) {
        err_set(err, "access control failed: the chip refused BAC (status %04X): the document "
                     "number, date of birth or date of expiry given do not match this chip",
                sw);
        goto out;
    }
    if (bac_ifd_finish(kenc, kmac, rnd_icc, rnd_ifd, k_ifd, d.data, &s->ctx, err) != 0) {
        err_prefix(err, "access control failed");
        goto out;
    }
    s->sm = true;
    rc = 0;
out:
    secret_wipe(info, sizeof info);
    secret_wipe(seed, sizeof seed);
    secret_wipe(kenc, sizeof kenc);
    secret_wipe(kmac, sizeof kmac);
    secret_wipe(k_ifd, sizeof k_ifd);
    buf_release_secret(&d);
    return rc;
}

/* One GENERAL AUTHENTICATE step: send 7C{TAG_OUT VAL}, expect 7C{TAG_IN ...}
 * whose value goes to OUT. */
static int ga(struct sess *s, bool last, unsigned tag_out, const unsigned char *val, size_t vl,
              unsigned tag_in, struct buf *out, unsigned *sw, struct err *err)
{
    struct buf cmd = BUF_INIT(512), d = BUF_INIT(1024);
    struct tlv dyn, obj;
    struct apdu a = { .cla = last ? 0x00 : 0x10, .ins = 0x86, .le_present = true, .le = 256 };
    int rc = -1;

    if ((vl ? tlv_put(&cmd, tag_out, val, vl, err) : 0) != 0 || tlv_wrap(&cmd, 0, 0x7C, err) != 0)
        goto out;
    a.data = cmd.data;
    a.lc = cmd.len;
    if (xfer(s, &a, &d, sw, err) != 0)
        goto out;
    if (*sw != SW_OK) {
        rc = 1;
        goto out;
    }
    /* TAG_IN 0: an empty answer, 7C 00 */
    if (tlv_decode_whole(d.data, d.len, &dyn, err) != 0 || dyn.tag != 0x7C ||
        (tag_in == 0 ? dyn.len != 0
                     : tlv_decode_whole(dyn.value, dyn.len, &obj, err) != 0 || obj.tag != tag_in)) {
        err_set(err, "access control: malformed GENERAL AUTHENTICATE response");
        goto out;
    }
    buf_reset(out);
    if (tag_in != 0 && buf_append(out, obj.value, obj.len) != 0) {
        err_set(err, "access control: response too long");
        goto out;
    }
    rc = 0;
out:
    buf_release(&cmd);
    buf_release(&d);
    return rc;
}

/* PACE over ECDH, AES-128 (Doc 9303-11 §4.4): the generic mapping, or the
 * integrated mapping when PARAM_ID has RD_PACE_IM. */
static int pace(struct sess *s, int param_id, const char *mrz, const char *can, struct err *err)
{
    char info[BAC_MRZ_INFO_MAX + 1];
    bool im = (param_id & RD_PACE_IM) != 0;
    unsigned char tnonce[16];
    unsigned char kpi[16], nonce[16], mine[PACE_PT_MAX], k[66], kenc[16], kmac[16], tok[8];
    unsigned char peer[PACE_PT_MAX];
    size_t ml, kl, pl;
    struct pace_ec *pe = NULL;
    struct buf cmd = BUF_INIT(64), d = BUF_INIT(1024);
    struct sm_ctx z;
    unsigned sw = 0;
    int r, rc = -1;

    if (can == NULL && bac_mrz_info(mrz, info, err) != 0)
        return -1;
    if (pace_kpi(can ? can : info, can == NULL, kpi, err) != 0 ||
        pace_ec_new(param_id, &pe, err) != 0)
        goto out;
    { /* MSE:Set AT: the protocol and the password */
        unsigned char pw = can ? 2 : 1;
        struct apdu mse = { .ins = 0x22, .p1 = 0xC1, .p2 = 0xA4 };
        if (tlv_put(&cmd, 0x80, im ? pace_oid_ecdh_im_aes128 : pace_oid_ecdh_gm_aes128,
                    sizeof pace_oid_ecdh_gm_aes128, err) != 0 ||
            tlv_put(&cmd, 0x83, &pw, 1, err) != 0)
            goto out;
        mse.data = cmd.data;
        mse.lc = cmd.len;
        if (xfer(s, &mse, &d, &sw, err) != 0)
            goto out;
        if (sw != SW_OK) {
            err_set(err, "access control: the chip refused PACE with this %s (MSE:Set AT "
                         "answered %04X)", can ? "CAN" : "MRZ", sw);
            goto out;
        }
    }
    r = ga(s, false, 0, NULL, 0, 0x80, &d, &sw, err);
    if (r != 0 || d.len != 16)
        goto refused;
    sm_init(&z, SM_AES128, kpi, kpi, NULL, 0);
    r = sm_cbc(&z, false, true, d.data, 16, nonce, err);
    sm_wipe(&z);
    if (r != 0)
        goto out;
    if (im) { /* the terminal's nonce t; G' = f_G(R_p(s, t)); the chip answers 7C 00 */
        secret_random(tnonce, sizeof tnonce);
        r = ga(s, false, 0x81, tnonce, sizeof tnonce, 0, &d, &sw, err);
        if (r != 0)
            goto refused;
        if (pace_ec_map_im(pe, nonce, tnonce, err) != 0 ||
            pace_ec_keypair(pe, NULL, mine, &ml, err) != 0)
            goto out;
    } else {
        if (pace_ec_keypair(pe, NULL, mine, &ml, err) != 0)
            goto out;
        r = ga(s, false, 0x81, mine, ml, 0x82, &d, &sw, err);
        if (r != 0)
            goto refused;
        if (pace_ec_map(pe, nonce, 16, d.data, d.len, err) != 0 ||
            pace_ec_keypair(pe, NULL, mine, &ml, err) != 0)
            goto out;
    }
    r = ga(s, false, 0x83, mine, ml, 0x84, &d, &sw, err);
    if (r != 0)
        goto refused;
    if (d.len > sizeof peer || (d.len == ml && memcmp(d.data, mine, ml) == 0)) {
        err_set(err, "access control: the chip's ephemeral key is ours or too long");
        goto out;
    }
    memcpy(peer, d.data, d.len);
    pl = d.len;
    if (pace_ec_shared(pe, peer, pl, k, &kl, err) != 0 ||
        sm_kdf(SM_AES128, k, kl, 1, kenc, err) != 0 || sm_kdf(SM_AES128, k, kl, 2, kmac, err) != 0 ||
        pace_token(im, kmac, peer, pl, tok, err) != 0)
        goto out;
    r = ga(s, true, 0x85, tok, 8, 0x86, &d, &sw, err);
    if (r != 0)
        goto refused;
    if (pace_token(im, kmac, mine, ml, tok, err) != 0)
        goto out;
    if (d.len != 8 || CRYPTO_memcmp(d.data, tok, 8) != 0) {
        err_set(err, "access control failed: the chip's PACE token does not verify");
        goto out;
    }
    sm_init(&s->ctx, SM_AES128, kenc, kmac, NULL, 0);
    s->sm = true;
    rc = 0;
    goto out;
refused:
    if (r > 0)
        err_set(err, "access control failed: the chip refused PACE (status %04X): the %s given "
                     "%s not match this chip", sw,
                can ? "card access number" : "document number, date of birth or date of expiry",
                can ? "does" : "do");
out:
    pace_ec_free(pe);
    secret_wipe(info, sizeof info);
    secret_wipe(kpi, sizeof kpi);
    secret_wipe(nonce, sizeof nonce);
    secret_wipe(tnonce, sizeof tnonce);
    secret_wipe(k, sizeof k);
    secret_wipe(kenc, sizeof kenc);
    secret_wipe(kmac, sizeof kmac);
    buf_release(&cmd);
    buf_release(&d);
    return rc;
}

/* Read the EF FID whole. 0 read, 1 not selectable (*SW says why), -1 error. */
static int read_ef(struct sess *s, unsigned fid, const struct rd_options *o, struct buf *out,
                   unsigned *sw, struct err *err)
{
    unsigned char f[2] = { (unsigned char)(fid >> 8), (unsigned char)fid };
    struct apdu sel = { .ins = 0xA4, .p1 = 0x02, .p2 = 0x0C, .data = f, .lc = 2 };
    struct buf d = BUF_INIT(RESP_MAX);
    size_t total, chunk = o->chunk ? o->chunk : 0xDF;
    int rc = -1;

    if (chunk > 65536)
        chunk = 65536;
    if (xfer(s, &sel, &d, sw, err) != 0)
        goto out;
    if (*sw != SW_OK) {
        rc = 1;
        goto out;
    }
    { /* the first bytes hold the TLV header and so the file's length */
        struct apdu rb = { .ins = 0xB0, .le_present = true, .le = 8 };
        size_t hl, vl = 0;
        if (xfer(s, &rb, &d, sw, err) != 0)
            goto out;
        if ((*sw != SW_OK && *sw != SW_END_OF_FILE) || d.len < 2) {
            err_set(err, "chip: READ BINARY of %04X answered %04X with %zu bytes", fid, *sw, d.len);
            goto out;
        }
        hl = (d.data[0] & 0x1F) == 0x1F ? 2 : 1; /* LDS EFs have 1-byte tags; 2 for 5F.. */
        if (hl + 1 > d.len)
            goto bad_header;
        if (d.data[hl] < 0x80) {
            vl = d.data[hl];
            hl += 1;
        } else {
            size_t nb = d.data[hl] & 0x7F;
            if (nb == 0 || nb > 3 || hl + 1 + nb > d.len)
                goto bad_header;
            for (size_t i = 0; i < nb; i++)
                vl = (vl << 8) | d.data[hl + 1 + i];
            hl += 1 + nb;
        }
        total = hl + vl;
        if (total > LDS_MAX_EF_BYTES || total > READ_OFFSET_MAX + 1)
            {
            err_set(err, "chip: EF %04X announces %zu bytes, more than this reader reads "
                         "(%d bytes with READ BINARY offsets)", fid, total, READ_OFFSET_MAX + 1);
            goto out;
        }
        if (d.len > total)
            d.len = total;
        buf_reset(out);
        if (buf_append(out, d.data, d.len) != 0)
            goto oom;
    }
    while (out->len < total) {
        size_t want = total - out->len < chunk ? total - out->len : chunk;
        struct apdu rb = { .ins = 0xB0, .p1 = (unsigned char)(out->len >> 8),
                           .p2 = (unsigned char)out->len, .le_present = true, .le = want,
                           .extended = o->extended && want > 256 };
        if (xfer(s, &rb, &d, sw, err) != 0)
            goto out;
        if ((*sw != SW_OK && *sw != SW_END_OF_FILE) || d.len == 0) {
            err_set(err, "chip: READ BINARY of %04X at offset %zu answered %04X with %zu bytes",
                    fid, out->len, *sw, d.len);
            goto out;
        }
        if (buf_append(out, d.data, d.len) != 0)
            goto oom;
    }
    rc = 0;
    goto out;
bad_header:
    err_set(err, "chip: EF %04X does not start with a valid TLV header", fid);
    goto out;
oom:
    err_set(err, "chip: EF %04X too large", fid);
out:
    buf_release(&d);
    return rc;
}

static int add_file(struct chip_package *pkg, const struct lds_dg_desc *d, struct buf *b,
                    struct err *err)
{
    struct chip_ef *e;
    if (pkg->n >= CHIP_MAX_EF)
        return err_set(err, "chip: too many files");
    e = &pkg->ef[pkg->n];
    memcpy(e->fid, d->fid, 5);
    e->dg = d->number;
    e->data = buf_detach(b, &e->len);
    if (e->data == NULL)
        return err_set(err, "chip: out of memory");
    pkg->n++;
    return 0;
}

/* The DG numbers EF.COM lists (its 5C tag list). */
static int com_dgs(const unsigned char *com, size_t len, bool dgs[17], struct err *err)
{
    struct tlv t, l;
    if (tlv_decode_whole(com, len, &t, err) != 0 || t.tag != 0x60)
        return err_set(err, "chip: EF.COM is not a 60 template");
    if (tlv_find(&t, 0x5C, &l, err) != 0)
        return err_set(err, "chip: EF.COM has no tag list (5C)");
    for (size_t i = 0; i < l.len; i++) {
        bool known = false;
        for (int n = 1; n <= 16; n++) {
            const struct lds_dg_desc *d = lds_dg_by_number(n);
            if (d && d->tag == l.value[i]) {
                dgs[n] = true;
                known = true;
            }
        }
        if (!known)
            return err_set(err, "chip: EF.COM lists an unknown data group tag %02X", l.value[i]);
    }
    return 0;
}

static int active_auth(struct sess *s, const struct chip_package *files, json_t *aa,
                       bool *aa_ok, struct err *err)
{
    const unsigned char *dg15 = NULL;
    size_t dg15_len = 0;
    unsigned char ch[8];
    struct apdu ia = { .ins = 0x88, .data = ch, .lc = 8, .le_present = true, .le = 256 };
    struct buf d = BUF_INIT(RESP_MAX);
    unsigned sw = 0;
    const char *alg = "unknown";
    int r, rc = -1;
    bool bad = false; /* a member of the report that could not be added */

    for (size_t i = 0; i < files->n; i++)
        if (files->ef[i].dg == 15) {
            dg15 = files->ef[i].data;
            dg15_len = files->ef[i].len;
        }
    *aa_ok = true;
    if (dg15 == NULL) {
        bad |= json_object_set_new(aa, "status", json_string("not supported")) != 0;
        bad |= json_object_set_new(aa, "message", json_string("no DG15: the chip has no Active "
                                                               "Authentication key")) != 0;
        return bad ? err_setk(err, ERR_INTERNAL, "chip: out of memory") : 0;
    }
    *aa_ok = false;
    secret_random(ch, sizeof ch);
    if (xfer(s, &ia, &d, &sw, err) != 0)
        goto out;
    if (sw != SW_OK) {
        char m[128];
        /* cannot truncate: fixed text and 4 hex digits: fits in 128 */
        (void)snprintf(m, sizeof m, "INTERNAL AUTHENTICATE answered %04X", sw);
        bad |= json_object_set_new(aa, "status", json_string("invalid")) != 0;
        bad |= json_object_set_new(aa, "message", json_string(m)) != 0;
        rc = 0;
        goto out;
    }
    r = aa_verify(dg15, dg15_len, ch, sizeof ch, d.data, d.len, &alg, err);
    bad |= json_object_set_new(aa, "algorithm", json_string(alg)) != 0;
    if (r < 0) {
        bad |= json_object_set_new(aa, "status", json_string("invalid")) != 0;
        bad |= json_object_set_new(aa, "message", json_string(err_msg(err))) != 0;
    } else {
        *aa_ok = r == 0;
        bad |= json_object_set_new(aa, "status", json_string(r == 0 ? "valid" : "invalid")) != 0;
        bad |= json_object_set_new(aa, "message",
                                   json_string(r == 0 ? "the chip signed our challenge with the key of "
                                                        "DG15: it holds the private key, not a copy"
                                                      : "the signature over our challenge does not "
                                                        "verify with DG15's key: the chip is a clone "
                                                        "or was personalized with another key")) != 0;
    }
    rc = 0;
out:
    if (rc == 0 && bad)
        rc = err_setk(err, ERR_INTERNAL, "chip: out of memory");
    buf_release(&d);
    return rc;
}

static int ca_report(json_t *ca, const char *status, const char *msg)
{
    return json_object_set_new(ca, "status", json_string(status)) != 0 ||
                   json_object_set_new(ca, "message", json_string(msg)) != 0
               ? -1
               : 0;
}

/* Chip Authentication (Doc 9303-11 §6.2) with DG14's key: MSE:Set AT and
 * GENERAL AUTHENTICATE with our ephemeral key under the current session,
 * then secure messaging re-keyed from the ECDH secret; EF.COM read again
 * under the new keys must equal what was read before. *CA_OK false only
 * when the chip failed it. -1 only when out of memory. */
static int chip_auth(struct sess *s, const struct rd_options *o, const struct chip_package *files,
                     json_t *ca, bool *ca_ok, struct err *err)
{
    const unsigned char *dg14 = NULL, *com = NULL;
    size_t dg14_len = 0, com_len = 0, ml = 0;
    struct lds_dg14 info;
    unsigned char mine[PACE_PT_MAX];
    struct sm_ctx next;
    struct buf cmd = BUF_INIT(256), d = BUF_INIT(LDS_MAX_EF_BYTES);
    struct err e = ERR_INIT;
    unsigned sw = 0;
    int rc = -1;
    char m[ERR_MSG_MAX + 160];

    memset(&next, 0, sizeof next);
    for (size_t i = 0; i < files->n; i++) {
        if (files->ef[i].dg == 14) {
            dg14 = files->ef[i].data;
            dg14_len = files->ef[i].len;
        } else if (files->ef[i].dg == 0) {
            com = files->ef[i].data;
            com_len = files->ef[i].len;
        }
    }
    *ca_ok = true;
    if (dg14 == NULL) {
        rc = ca_report(ca, "not supported", "no DG14: the chip offers no Chip Authentication");
        goto out;
    }
    *ca_ok = false;
    if (lds_dg14_parse(dg14, dg14_len, &info, &e) != 0) {
        (void)snprintf(m, sizeof m, "DG14 cannot be used: %s", err_msg(&e));
        rc = ca_report(ca, "failed", m);
        goto out;
    }
    if (!info.ca_aes128) {
        *ca_ok = true;
        rc = ca_report(ca, "not performed", "DG14 offers only Chip Authentication protocols this "
                                            "reader does not run (3DES or DH)");
        goto out;
    }
    if (json_object_set_new(ca, "protocol", json_string("ECDH, AES-128 (CMAC)")) != 0 ||
        json_object_set_new(ca, "curve", json_string(info.param_id == 12 ? "NIST P-256"
                                                                         : "brainpoolP256r1")) != 0)
        goto oom;
    { /* MSE:Set AT: 80 the protocol */
        struct apdu mse = { .ins = 0x22, .p1 = 0x41, .p2 = 0xA4 };
        if (tlv_put(&cmd, 0x80, lds_oid_ca_ecdh_aes128, sizeof lds_oid_ca_ecdh_aes128, &e) != 0)
            goto oom;
        mse.data = cmd.data;
        mse.lc = cmd.len;
        if (xfer(s, &mse, &d, &sw, &e) != 0)
            goto broken;
        if (sw != SW_OK) {
            /* cannot truncate: fixed text and 4 hex digits */
            (void)snprintf(m, sizeof m, "MSE:Set AT for Chip Authentication answered %04X", sw);
            rc = ca_report(ca, "failed", m);
            goto out;
        }
    }
    if (ca_keys(info.param_id, NULL, info.point, info.point_len, mine, &ml, &next, &e) != 0) {
        (void)snprintf(m, sizeof m, "%s", err_msg(&e));
        rc = ca_report(ca, "failed", m);
        goto out;
    }
    { /* GENERAL AUTHENTICATE 7C { 80 our ephemeral public key } */
        struct apdu ga = { .ins = 0x86, .le_present = true, .le = 256 };
        buf_reset(&cmd);
        if (tlv_put(&cmd, 0x80, mine, ml, &e) != 0 || tlv_wrap(&cmd, 0, 0x7C, &e) != 0)
            goto oom;
        ga.data = cmd.data;
        ga.lc = cmd.len;
        if (xfer(s, &ga, &d, &sw, &e) != 0)
            goto broken;
        if (sw != SW_OK || d.len < 2 || d.data[0] != 0x7C) {
            /* cannot truncate: fixed text and 4 hex digits */
            (void)snprintf(m, sizeof m, "GENERAL AUTHENTICATE for Chip Authentication answered "
                                        "%04X", sw);
            rc = ca_report(ca, "failed", m);
            goto out;
        }
    }
    s->ctx = next; /* from here on, the keys only the genuine chip can derive */
    {
        struct buf again = BUF_INIT(LDS_MAX_EF_BYTES);
        int r = read_ef(s, 0x011E, o, &again, &sw, &e);
        bool same = r == 0 && com && again.len == com_len &&
                    CRYPTO_memcmp(again.data, com, com_len) == 0;
        buf_release(&again);
        if (r < 0) {
            (void)snprintf(m, sizeof m, "the chip does not answer under the keys agreed with "
                                        "DG14's public key (%s): it does not hold the private key "
                                        "behind DG14 (a clone, or personalized with another key)",
                           err_msg(&e));
            rc = ca_report(ca, "failed", m);
            goto out;
        }
        if (!same) {
            rc = ca_report(ca, "failed", "EF.COM read again after Chip Authentication differs "
                                         "from the first read");
            goto out;
        }
    }
    *ca_ok = true;
    rc = ca_report(ca, "passed", "the chip derived the session keys from the private key behind "
                                 "DG14 (ECDH with our ephemeral key); secure messaging continues "
                                 "with the new keys and a fresh counter: the chip is genuine, not "
                                 "a copy of signed data");
    goto out;
broken:
    (void)snprintf(m, sizeof m, "secure messaging broke during Chip Authentication: %s",
                   err_msg(&e));
    rc = ca_report(ca, "failed", m);
    goto out;
oom:
    rc = -1;
out:
    if (rc != 0)
        err_setk(err, ERR_INTERNAL, "chip: out of memory");
    sm_wipe(&next);
    secret_wipe(mine, sizeof mine);
    buf_release(&cmd);
    buf_release_secret(&d);
    return rc;
}

int rd_inspect(const struct rd_transport *t, const struct rd_options *o,
               struct chip_package *files, json_t **report, bool *valid, struct err *err)
{
    struct sess s = { .t = t };
    struct timespec t0, t1;
    struct buf d = BUF_INIT(LDS_MAX_EF_BYTES);
    struct pa_chip view;
    json_t *rep = NULL, *aa = json_object(), *ca = json_object(), *tim = json_object(),
           *flist = json_array(), *access = json_object();
    bool dgs[17] = { false }, pa_valid = false, aa_ok = false, ca_ok = false;
    unsigned sw = 0;
    int pace_param = 0;
    bool bad = false; /* a member of the report that could not be added */
    double t_select, t_access, t_read, t_pa, t_aa, t_ca;
    int rc = -1;

    *report = NULL;
    *valid = false;
    memset(files, 0, sizeof *files);
    if (!aa || !ca || !tim || !flist || !access) {
        err_set(err, "chip: out of memory");
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    { /* EF.CardAccess, readable without access control, offers PACE */
        int r = o->bac_only ? 1 : read_ef(&s, 0x011C, o, &d, &sw, err);
        if (r < 0) {
            err_prefix(err, "EF.CardAccess");
            goto out;
        }
        if (r == 0 && pace_card_access_parse(d.data, d.len, &pace_param, err) < 0)
            goto out;
    }
    if (o->can && pace_param == 0) {
        err_set(err, "access control: the chip offers no PACE (no EF.CardAccess with ECDH "
                     "generic mapping): a CAN cannot be used, give the MRZ for BAC");
        goto out;
    }
    t_select = ms_since(&t0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (pace_param) {
        if (pace(&s, pace_param, o->mrz, o->can, err) != 0)
            goto out;
    }
    {
        struct apdu sel = { .ins = 0xA4, .p1 = 0x04, .p2 = 0x0C, .data = emrtd_aid, .lc = 7 };
        if (xfer(&s, &sel, &d, &sw, err) != 0)
            goto out;
        if (sw != SW_OK) {
            err_set(err, "chip: not an eMRTD: SELECT of the application A0000002471001 "
                         "answered %04X", sw);
            goto out;
        }
    }
    if (!pace_param && bac(&s, o->mrz, err) != 0)
        goto out;
    t_access = ms_since(&t1);
    if (pace_param) {
        bad |= json_object_set_new(access, "protocol", json_string("PACE")) != 0;
        bad |= json_object_set_new(access, "mapping",
                                   json_string(pace_param & RD_PACE_IM ? "integrated, ECDH"
                                                                       : "generic, ECDH")) != 0;
        bad |= json_object_set_new(access, "curve",
                                   json_string((pace_param & 0xFF) == 12 ? "NIST P-256"
                                                                         : "brainpoolP256r1")) != 0;
        bad |= json_object_set_new(access, "password", json_string(o->can ? "CAN" : "MRZ")) != 0;
        bad |= json_object_set_new(access, "secure_messaging", json_string("AES-128, CMAC")) != 0;
        bad |= json_object_set_new(access, "message",
                                   json_string("PACE with the password succeeded: the chip and the "
                                               "reader proved knowledge of it without exposing it to "
                                               "offline guessing; every later APDU is under secure "
                                               "messaging")) != 0;
    } else {
        bad |= json_object_set_new(access, "protocol", json_string("BAC")) != 0;
        bad |= json_object_set_new(access, "secure_messaging", json_string("3DES, retail MAC")) != 0;
        bad |= json_object_set_new(access, "message",
                                   json_string("mutual authentication with the keys of the MRZ "
                                               "succeeded; every later APDU is under secure messaging")) != 0;
    }
    bad |= json_object_set_new(access, "valid", json_true()) != 0;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    {
        const struct lds_dg_desc *com = lds_dg_by_number(0), *sod = lds_dg_by_number(-1);
        int r = read_ef(&s, 0x011E, o, &d, &sw, err);
        if (r < 0)
            goto out;
        if (r > 0) {
            err_set(err, "chip: EF.COM cannot be selected (status %04X)", sw);
            goto out;
        }
        if (com_dgs(d.data, d.len, dgs, err) != 0 || add_file(files, com, &d, err) != 0)
            goto out;
        for (int n = 1; n <= 16; n++) {
            const struct lds_dg_desc *dd = lds_dg_by_number(n);
            if (!dgs[n] || dd == NULL)
                continue;
            r = read_ef(&s, (unsigned)strtoul(dd->fid, NULL, 16), o, &d, &sw, err);
            if (r < 0)
                goto out;
            if (r > 0) { /* e.g. DG3/DG4 behind Extended Access Control */
                char m[128];
                /* cannot truncate: fixed text and 4 hex digits: fits in 128 */
                (void)snprintf(m, sizeof m, "not read: the chip answered %04X", sw);
                bad |= json_array_append_new(flist, json_pack("{s:s, s:s, s:s}", "fid", dd->fid,
                                                              "name", dd->name, "status", m)) != 0;
                continue;
            }
            bad |= json_array_append_new(flist, json_pack("{s:s, s:s, s:I}", "fid", dd->fid, "name",
                                                          dd->name, "bytes", (json_int_t)d.len)) != 0;
            if (add_file(files, dd, &d, err) != 0)
                goto out;
        }
        r = read_ef(&s, 0x011D, o, &d, &sw, err);
        if (r < 0)
            goto out;
        if (r > 0) {
            err_set(err, "chip: EF.SOD cannot be selected (status %04X)", sw);
            goto out;
        }
        bad |= json_array_append_new(flist, json_pack("{s:s, s:s, s:I}", "fid", "011D", "name",
                                                      "EF.SOD", "bytes", (json_int_t)d.len)) != 0;
        if (add_file(files, sod, &d, err) != 0)
            goto out;
    }
    t_read = ms_since(&t1);

    clock_gettime(CLOCK_MONOTONIC, &t1);
    chip_package_view(files, &view);
    if (passive_auth(&view, o->trust, o->mrz, o->now, &rep, &pa_valid, err) != 0)
        goto out;
    t_pa = ms_since(&t1);

    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (active_auth(&s, files, aa, &aa_ok, err) != 0)
        goto out;
    t_aa = ms_since(&t1);
    if (json_is_string(json_object_get(aa, "status")) &&
        strcmp(json_string_value(json_object_get(aa, "status")), "not supported") != 0)
        json_array_append_new(json_object_get(rep, "checks"),
                              json_pack("{s:s, s:b, s:O}", "check", "active_authentication",
                                        "valid", aa_ok, "message",
                                        json_object_get(aa, "message")));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (chip_auth(&s, o, files, ca, &ca_ok, err) != 0)
        goto out;
    t_ca = ms_since(&t1);
    if (json_is_string(json_object_get(ca, "status")) &&
        strcmp(json_string_value(json_object_get(ca, "status")), "not supported") != 0)
        bad |= json_array_append_new(json_object_get(rep, "checks"),
                                     json_pack("{s:s, s:b, s:O}", "check", "chip_authentication",
                                               "valid", ca_ok, "message",
                                               json_object_get(ca, "message"))) != 0;
    bad |= json_object_set_new(tim, "select_ms", json_real(t_select)) != 0;
    bad |= json_object_set_new(tim, "access_ms", json_real(t_access)) != 0;
    bad |= json_object_set_new(tim, "read_ms", json_real(t_read)) != 0;
    bad |= json_object_set_new(tim, "passive_auth_ms", json_real(t_pa)) != 0;
    bad |= json_object_set_new(tim, "active_auth_ms", json_real(t_aa)) != 0;
    bad |= json_object_set_new(tim, "chip_auth_ms", json_real(t_ca)) != 0;
    bad |= json_object_set_new(tim, "total_ms", json_real(ms_since(&t0))) != 0;
    bad |= json_object_set_new(tim, "apdus", json_integer(s.apdus)) != 0;
    *valid = pa_valid && aa_ok && ca_ok;
    bad |= json_object_set_new(rep, "valid", json_boolean(*valid)) != 0;
    bad |= json_object_set_new(rep, "access", access) != 0;
    bad |= json_object_set_new(rep, "aa", aa) != 0;
    bad |= json_object_set_new(rep, "ca", ca) != 0;
    bad |= json_object_set_new(rep, "files", flist) != 0;
    bad |= json_object_set_new(rep, "timings", tim) != 0;
    access = aa = ca = flist = tim = NULL;
    if (bad) {
        err_setk(err, ERR_INTERNAL, "chip: out of memory");
        goto out;
    }
    *report = rep;
    rep = NULL;
    rc = 0;
out:
    if (rc != 0)
        chip_package_release(files);
    sm_wipe(&s.ctx);
    json_decref(rep);
    json_decref(aa);
    json_decref(ca);
    json_decref(tim);
    json_decref(flist);
    json_decref(access);
    buf_release(&d);
    return rc;
}
