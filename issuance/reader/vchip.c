/* civreg issuance/reader: a virtual eMRTD chip answering APDUs for a
 * personalization package, with the access rules of Doc 9303-11: before
 * access control only the application and EF.CardAccess can be selected and
 * only EF.CardAccess read; BAC with the keys of DG1's MRZ; afterwards every
 * command must come under secure messaging, and a plain command or a wrong
 * MAC ends the session (keys wiped, BAC needed again). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/secret.h"
#include "issuance/icao/icao.h"
#include "reader.h"
#include "reader_int.h"

#define AA_KEY_MAX 16384
static const unsigned char emrtd_aid[7] = { 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01 };
#define FID_CARD_ACCESS 0x011C

struct vchip {
    struct chip_package pkg;
    unsigned fid[CHIP_MAX_EF];
    unsigned char *card_access; /* EF.CardAccess, or NULL */
    size_t card_access_len;
    unsigned char *aa_key;      /* PKCS#8 DER (secret), or NULL */
    size_t aa_key_len;
    int ca_param;               /* the curve of the Chip Authentication key, 0 = none */
    char ca_sk[CA_HEX_MAX];     /* its private scalar (secret) */
    bool ca_ready;              /* MSE:Set AT for Chip Authentication done */
    bool ca_pending;            /* re-key after this response */
    struct sm_ctx ca_next;      /* the keys of Chip Authentication */
    unsigned char kenc[16], kmac[16]; /* BAC keys from DG1 */
    char mrz_info[BAC_MRZ_INFO_MAX + 1]; /* the PACE password from DG1 */
    char can[16];               /* the card access number, "" = none */
    int pace_param;             /* from EF.CardAccess, 0 = no PACE offered */
    int pace_step;              /* 0 none, 1 MSE:Set AT done, 2 nonce, 3 mapped, 4 agreed */
    struct pace_ec *pace;
    unsigned char pace_kpi[16], pace_s[16], pace_kenc[16], pace_kmac[16];
    unsigned char pace_pub[PACE_PT_MAX], pace_peer[PACE_PT_MAX];
    size_t pace_pub_len, pace_peer_len;
    bool app_selected;
    int cur;                    /* index of the selected EF, -1 none, -2 EF.CardAccess */
    unsigned char rnd_icc[8];
    bool challenge;
    bool sm_active;
    struct sm_ctx sm;
    unsigned aborted;
};

static void pace_reset(struct vchip *c);

/* Read a small file (1 when absent). */
static int slurp(const char *dir, const char *name, size_t max, unsigned char **out, size_t *len,
                 struct err *err)
{
    char path[PATH_MAX];
    struct buf b = BUF_INIT(max);
    unsigned char chunk[4096];
    int fd;

    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return err_set(err, "vchip: path too long");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1 : err_set(err, "vchip: %s: %s", path, strerror(errno));
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || buf_append_secret(&b, chunk, (size_t)r) != 0) {
            close(fd);
            secret_wipe(chunk, sizeof chunk);
            buf_release_secret(&b);
            return err_set(err, "vchip: cannot read %s (or larger than %zu bytes)", path, max);
        }
        if ((size_t)r < sizeof chunk)
            break;
    }
    close(fd);
    secret_wipe(chunk, sizeof chunk);
    *out = buf_detach(&b, len);
    return *out ? 0 : err_set(err, "vchip: out of memory");
}

int vchip_open(const char *dir, struct vchip **out, struct err *err)
{
    struct vchip *c = calloc(1, sizeof *c);
    char mrz[LDS_MRZ_MAX + 1], lines[LDS_MRZ_MAX + 4], info[BAC_MRZ_INFO_MAX + 1];
    unsigned char seed[16];
    size_t n, w, k = 0;
    int r;

    *out = NULL;
    if (c == NULL)
        return err_set(err, "vchip: out of memory");
    c->cur = -1;
    if (chip_package_read(dir, &c->pkg, err) != 0)
        goto fail;
    for (size_t i = 0; i < c->pkg.n; i++)
        c->fid[i] = (unsigned)strtoul(c->pkg.ef[i].fid, NULL, 16);
    r = slurp(dir, "011C", LDS_MAX_EF_BYTES, &c->card_access, &c->card_access_len, err);
    if (r < 0)
        goto fail;
    r = slurp(dir, "aa-private-key.p8", AA_KEY_MAX, &c->aa_key, &c->aa_key_len, err);
    if (r < 0)
        goto fail;
    {
        unsigned char *ck = NULL;
        size_t ckl = 0;
        r = slurp(dir, "ca-private-key.p8", AA_KEY_MAX, &ck, &ckl, err);
        if (r < 0)
            goto fail;
        if (r == 0) {
            r = ca_private_load(ck, ckl, &c->ca_param, c->ca_sk, err);
            secret_wipe(ck, ckl);
            free(ck);
            if (r != 0)
                goto fail;
        }
    }
    {
        const unsigned char *dg1 = NULL;
        size_t dg1_len = 0;
        for (size_t i = 0; i < c->pkg.n; i++)
            if (c->pkg.ef[i].dg == 1) {
                dg1 = c->pkg.ef[i].data;
                dg1_len = c->pkg.ef[i].len;
            }
        if (dg1 == NULL) {
            err_set(err, "vchip: %s has no DG1 (0101): the BAC keys come from its MRZ", dir);
            goto fail;
        }
        if (lds_dg1_mrz(dg1, dg1_len, mrz, &n, err) != 0)
            goto fail;
    }
    w = n == 90 ? 30 : n / 2;
    for (size_t i = 0; i < n; i++) {
        lines[k++] = mrz[i];
        if ((i + 1) % w == 0)
            lines[k++] = '\n';
    }
    lines[k] = '\0';
    if (bac_mrz_info(lines, info, err) != 0 || bac_keys(info, seed, c->kenc, c->kmac, err) != 0)
        goto fail;
    memcpy(c->mrz_info, info, sizeof info);
    if (c->card_access) {
        int r2 = pace_card_access_parse(c->card_access, c->card_access_len, &c->pace_param, err);
        if (r2 < 0)
            goto fail;
        if (r2 > 0)
            c->pace_param = 0;
    }
    secret_wipe(seed, sizeof seed);
    secret_wipe(info, sizeof info);
    *out = c;
    return 0;
fail:
    err_prefix(err, "vchip");
    vchip_free(c);
    return -1;
}

void vchip_free(struct vchip *c)
{
    if (c == NULL)
        return;
    pace_reset(c);
    chip_package_release(&c->pkg);
    free(c->card_access);
    if (c->aa_key) {
        secret_wipe(c->aa_key, c->aa_key_len);
        free(c->aa_key);
    }
    secret_wipe(c, sizeof *c);
    free(c);
}

static void pace_reset(struct vchip *c)
{
    pace_ec_free(c->pace);
    c->pace = NULL;
    c->pace_step = 0;
    secret_wipe(c->pace_kpi, sizeof c->pace_kpi);
    secret_wipe(c->pace_s, sizeof c->pace_s);
    secret_wipe(c->pace_kenc, sizeof c->pace_kenc);
    secret_wipe(c->pace_kmac, sizeof c->pace_kmac);
}

int vchip_set_can(struct vchip *c, const char *can, struct err *err)
{
    size_t n = strlen(can);
    if (n < 6 || n >= sizeof c->can || strspn(can, "0123456789") != n)
        return err_set(err, "vchip: a CAN is 6 to 15 digits");
    memcpy(c->can, can, n + 1);
    return 0;
}

void vchip_reset(struct vchip *c)
{
    pace_reset(c);
    c->ca_ready = false;
    c->ca_pending = false;
    sm_wipe(&c->ca_next);
    c->app_selected = false;
    c->cur = -1;
    c->challenge = false;
    secret_wipe(c->rnd_icc, sizeof c->rnd_icc);
    c->sm_active = false;
    sm_wipe(&c->sm);
}

unsigned vchip_aborted_sessions(const struct vchip *c)
{
    return c->aborted;
}

const unsigned char *vchip_atr(size_t *len)
{
    /* ISO/IEC 14443-4 card through a PC/SC reader (PC/SC part 3): T=1, no
     * historical bytes, TCK */
    static const unsigned char atr[] = { 0x3B, 0x80, 0x80, 0x01, 0x01 };
    *len = sizeof atr;
    return atr;
}

static void abort_session(struct vchip *c)
{
    vchip_reset(c);
    c->aborted++;
}

/* The selected EF's bytes; NULL when none. */
static const unsigned char *current(const struct vchip *c, size_t *len)
{
    if (c->cur == -2) {
        *len = c->card_access_len;
        return c->card_access;
    }
    if (c->cur >= 0) {
        *len = c->pkg.ef[c->cur].len;
        return c->pkg.ef[c->cur].data;
    }
    return NULL;
}

/* Select the EF FID; SW result. */
static unsigned select_ef(struct vchip *c, unsigned fid, bool protected)
{
    if (fid == FID_CARD_ACCESS) {
        if (c->card_access == NULL)
            return SW_FILE_NOT_FOUND;
        c->cur = -2;
        return SW_OK;
    }
    if (!protected)
        return SW_SECURITY_STATUS; /* LDS files only after BAC/PACE */
    if (!c->app_selected)
        return SW_FILE_NOT_FOUND;
    for (size_t i = 0; i < c->pkg.n; i++)
        if (c->fid[i] == fid) {
            c->cur = (int)i;
            return SW_OK;
        }
    return SW_FILE_NOT_FOUND;
}

/* One GENERAL AUTHENTICATE step of PACE (Doc 9303-11 §4.4.4). */
static unsigned pace_step(struct vchip *c, const struct apdu *a, struct buf *data)
{
    struct tlv dyn, obj;
    unsigned char mine[PACE_PT_MAX], k[66], tok[8];
    size_t ml = 0, kl = 0;
    struct err e = ERR_INIT;
    struct sm_ctx z;
    size_t from = data->len;
    bool im = (c->pace_param & RD_PACE_IM) != 0;

    if (c->pace_step == 0 || tlv_decode_whole(a->data, a->lc, &dyn, &e) != 0 || dyn.tag != 0x7C)
        goto fail;
    if (c->pace_step == 1) { /* encrypted nonce */
        if (dyn.len != 0)
            goto fail;
        secret_random(c->pace_s, 16);
        sm_init(&z, SM_AES128, c->pace_kpi, c->pace_kpi, NULL, 0);
        if (sm_cbc(&z, true, true, c->pace_s, 16, k, &e) != 0 ||
            tlv_put(data, 0x80, k, 16, &e) != 0)
            goto fail;
        sm_wipe(&z);
        c->pace_step = 2;
    } else if (c->pace_step == 2 && im) { /* integrated mapping */
        if (tlv_decode_whole(dyn.value, dyn.len, &obj, &e) != 0 || obj.tag != 0x81 ||
            obj.len != 16 || pace_ec_map_im(c->pace, c->pace_s, obj.value, &e) != 0)
            goto fail;
        c->pace_step = 3;
    } else if (c->pace_step == 2) { /* generic mapping */
        if (tlv_decode_whole(dyn.value, dyn.len, &obj, &e) != 0 || obj.tag != 0x81 ||
            pace_ec_keypair(c->pace, NULL, mine, &ml, &e) != 0 ||
            pace_ec_map(c->pace, c->pace_s, 16, obj.value, obj.len, &e) != 0 ||
            tlv_put(data, 0x82, mine, ml, &e) != 0)
            goto fail;
        c->pace_step = 3;
    } else if (c->pace_step == 3) { /* key agreement */
        if (tlv_decode_whole(dyn.value, dyn.len, &obj, &e) != 0 || obj.tag != 0x83 ||
            obj.len > PACE_PT_MAX || pace_ec_keypair(c->pace, NULL, mine, &ml, &e) != 0 ||
            (obj.len == ml && memcmp(obj.value, mine, ml) == 0) ||
            pace_ec_shared(c->pace, obj.value, obj.len, k, &kl, &e) != 0 ||
            sm_kdf(SM_AES128, k, kl, 1, c->pace_kenc, &e) != 0 ||
            sm_kdf(SM_AES128, k, kl, 2, c->pace_kmac, &e) != 0 ||
            tlv_put(data, 0x84, mine, ml, &e) != 0)
            goto fail;
        memcpy(c->pace_peer, obj.value, obj.len);
        c->pace_peer_len = obj.len;
        memcpy(c->pace_pub, mine, ml);
        c->pace_pub_len = ml;
        c->pace_step = 4;
    } else { /* mutual authentication */
        if (tlv_decode_whole(dyn.value, dyn.len, &obj, &e) != 0 || obj.tag != 0x85 ||
            obj.len != 8 ||
            pace_token(im, c->pace_kmac, c->pace_pub, c->pace_pub_len, tok, &e) != 0 ||
            CRYPTO_memcmp(tok, obj.value, 8) != 0 ||
            pace_token(im, c->pace_kmac, c->pace_peer, c->pace_peer_len, tok, &e) != 0 ||
            tlv_put(data, 0x86, tok, 8, &e) != 0)
            goto fail;
        sm_init(&c->sm, SM_AES128, c->pace_kenc, c->pace_kmac, NULL, 0);
        c->sm_active = true;
        pace_reset(c);
    }
    if (tlv_wrap(data, from, 0x7C, &e) != 0)
        goto fail;
    secret_wipe(k, sizeof k);
    return SW_OK;
fail:
    secret_wipe(k, sizeof k);
    data->len = from;
    pace_reset(c);
    return SW_AUTH_FAILED;
}

/* Handle a plain (or already unwrapped) command; DATA gets the response
 * data, the return value is the status word (0 = out of memory). */
static unsigned handle(struct vchip *c, const struct apdu *a, bool protected, struct buf *data)
{
    if (a->cla == 0x10 && a->ins == 0x86 && !protected) /* command chaining in PACE */
        return pace_step(c, a, data);
    if (a->cla != 0x00)
        return SW_CLA_UNKNOWN;
    switch (a->ins) {
    case 0xA4: /* SELECT */
        if (a->p1 == 0x04) {
            if (a->lc != sizeof emrtd_aid || memcmp(a->data, emrtd_aid, sizeof emrtd_aid) != 0)
                return SW_FILE_NOT_FOUND;
            c->app_selected = true;
            c->cur = -1;
            return SW_OK;
        }
        if ((a->p1 == 0x02 || a->p1 == 0x00) && a->lc == 2) {
            unsigned sw = select_ef(c, ((unsigned)a->data[0] << 8) | a->data[1], protected);
            if (sw == SW_OK && (a->p2 & 0x0C) != 0x0C) {
                size_t len;
                unsigned char fcp[6] = { 0x62, 0x04, 0x80, 0x02, 0, 0 };
                (void)current(c, &len);
                fcp[4] = (unsigned char)(len > 0xFFFF ? 0xFF : len >> 8);
                fcp[5] = (unsigned char)(len > 0xFFFF ? 0xFF : len);
                if (buf_append(data, fcp, sizeof fcp) != 0)
                    return 0;
            }
            return sw;
        }
        return a->lc == 2 || a->p1 == 0x04 ? SW_WRONG_P1P2 : SW_WRONG_LENGTH;
    case 0xB0: { /* READ BINARY */
        size_t off, len, n;
        const unsigned char *f;
        if (a->p1 & 0x80) { /* short EF identifier in P1 */
            unsigned sw = select_ef(c, 0x0100u | (a->p1 & 0x1Fu), protected);
            if (sw != SW_OK)
                return sw;
            off = a->p2;
        } else
            off = ((size_t)(a->p1 & 0x7F) << 8) | a->p2;
        if (!protected && c->cur != -2)
            return SW_SECURITY_STATUS; /* only EF.CardAccess before access control */
        f = current(c, &len);
        if (f == NULL)
            return 0x6986; /* no current EF */
        if (!a->le_present || a->lc > 0)
            return SW_WRONG_LENGTH;
        if (off > len)
            return SW_WRONG_P1P2;
        n = len - off < a->le ? len - off : a->le;
        if (buf_append(data, f + off, n) != 0)
            return 0;
        return n < a->le ? SW_END_OF_FILE : SW_OK;
    }
    case 0x84: /* GET CHALLENGE */
        if (!a->le_present || a->le != 8 || a->lc > 0)
            return SW_WRONG_LENGTH;
        secret_random(c->rnd_icc, 8);
        c->challenge = true;
        return buf_append(data, c->rnd_icc, 8) == 0 ? SW_OK : 0;
    case 0x82: { /* EXTERNAL AUTHENTICATE (BAC) */
        unsigned char k_icc[16], resp[40];
        struct sm_ctx s;
        struct err e = ERR_INIT;
        int r;
        if (protected)
            return SW_CONDITIONS;
        if (!c->challenge)
            return SW_CONDITIONS;
        c->challenge = false; /* one try per challenge */
        if (a->lc != 40)
            return SW_WRONG_LENGTH;
        secret_random(k_icc, sizeof k_icc);
        r = bac_icc_answer(c->kenc, c->kmac, c->rnd_icc, k_icc, a->data, resp, &s, &e);
        secret_wipe(k_icc, sizeof k_icc);
        if (r != 0)
            return SW_AUTH_FAILED;
        if (buf_append(data, resp, sizeof resp) != 0)
            return 0;
        c->sm = s;
        sm_wipe(&s);
        c->sm_active = true;
        return SW_OK;
    }
    case 0x22: { /* MSE:Set AT for PACE */
        struct tlv t;
        struct tlv_iter it;
        struct err e = ERR_INIT;
        int pw = 0, r;
        bool oid_ok = false;
        if (protected && a->p1 == 0x41 && a->p2 == 0xA4) { /* Chip Authentication */
            c->ca_ready = false;
            if (c->ca_param == 0)
                return SW_WRONG_DATA;
            tlv_iter_init(&it, a->data, a->lc);
            while ((r = tlv_iter_next(&it, &t, &e)) == 1)
                if (t.tag == 0x80)
                    oid_ok = t.len == LDS_OID_CA_ECDH_AES128_LEN &&
                             memcmp(t.value, lds_oid_ca_ecdh_aes128, t.len) == 0;
            if (r < 0 || !oid_ok)
                return SW_WRONG_DATA;
            c->ca_ready = true;
            return SW_OK;
        }
        if (protected || a->p1 != 0xC1 || a->p2 != 0xA4)
            return protected ? SW_CONDITIONS : SW_WRONG_P1P2;
        if (c->pace_param == 0)
            return SW_WRONG_DATA; /* no PACE offered: no EF.CardAccess */
        pace_reset(c);
        tlv_iter_init(&it, a->data, a->lc);
        while ((r = tlv_iter_next(&it, &t, &e)) == 1) {
            if (t.tag == 0x80) /* the mapping EF.CardAccess offers */
                oid_ok = t.len == PACE_OID_ECDH_GM_AES128_LEN &&
                         memcmp(t.value, c->pace_param & RD_PACE_IM ? pace_oid_ecdh_im_aes128
                                                                    : pace_oid_ecdh_gm_aes128,
                                t.len) == 0;
            else if (t.tag == 0x83 && t.len == 1)
                pw = t.value[0];
        }
        if (r < 0 || !oid_ok || (pw != 1 && pw != 2))
            return SW_WRONG_DATA;
        if (pw == 2 && c->can[0] == '\0')
            return 0x6A88; /* no CAN known to this chip */
        if (pace_kpi(pw == 1 ? c->mrz_info : c->can, pw == 1, c->pace_kpi, &e) != 0 ||
            pace_ec_new(c->pace_param, &c->pace, &e) != 0)
            return SW_WRONG_DATA;
        c->pace_step = 1;
        return SW_OK;
    }
    case 0x86: /* GENERAL AUTHENTICATE: last step of PACE, or Chip Authentication */
        if (protected) {
            struct tlv dyn, pk;
            unsigned char mine[PACE_PT_MAX];
            size_t ml = 0;
            struct err e = ERR_INIT;
            if (!c->ca_ready)
                return SW_CONDITIONS;
            c->ca_ready = false;
            if (tlv_decode_whole(a->data, a->lc, &dyn, &e) != 0 || dyn.tag != 0x7C ||
                tlv_decode_whole(dyn.value, dyn.len, &pk, &e) != 0 || pk.tag != 0x80 ||
                ca_keys(c->ca_param, c->ca_sk, pk.value, pk.len, mine, &ml, &c->ca_next, &e) != 0)
                return SW_AUTH_FAILED;
            secret_wipe(mine, sizeof mine);
            c->ca_pending = true; /* this answer under the old keys, then the new */
            return buf_append(data, "\x7C\x00", 2) == 0 ? SW_OK : 0;
        }
        return pace_step(c, a, data);
    case 0x88: { /* INTERNAL AUTHENTICATE (Active Authentication) */
        struct err e = ERR_INIT;
        if (!protected)
            return SW_SECURITY_STATUS;
        if (c->aa_key == NULL)
            return SW_INS_UNKNOWN;
        if (a->lc != 8 || a->p1 != 0 || a->p2 != 0)
            return a->lc != 8 ? SW_WRONG_LENGTH : SW_WRONG_P1P2;
        return aa_sign(c->aa_key, c->aa_key_len, a->data, a->lc, data, &e) == 0 ? SW_OK
                                                                                : 0x6F00;
    }
    default:
        return SW_INS_UNKNOWN;
    }
}

static int put_sw(struct buf *resp, unsigned sw)
{
    unsigned char s[2] = { (unsigned char)(sw >> 8), (unsigned char)sw };
    return buf_append(resp, s, 2);
}

int vchip_apdu(struct vchip *c, const unsigned char *cmd, size_t len, struct buf *resp)
{
    struct buf data = BUF_INIT(RESP_MAX), plain = BUF_INIT(APDU_MAX);
    struct apdu a, p;
    struct err e = ERR_INIT;
    unsigned sw;
    int rc = -1;

    buf_reset(resp);
    if (apdu_parse(cmd, len, &a, &e) != 0) {
        if (c->sm_active)
            abort_session(c);
        rc = put_sw(resp, SW_WRONG_LENGTH);
        goto out;
    }
    if (!c->sm_active) {
        if ((a.cla & 0x0C) == 0x0C) { /* secure messaging without a session */
            rc = put_sw(resp, SW_SM_WRONG);
            goto out;
        }
        sw = handle(c, &a, false, &data);
        if (sw == 0)
            goto out;
        rc = buf_append(resp, data.data, data.len) == 0 && put_sw(resp, sw) == 0 ? 0 : -1;
        goto out;
    }
    if ((a.cla & 0x0C) != 0x0C) { /* plain command inside a session */
        abort_session(c);
        rc = put_sw(resp, SW_SM_MISSING);
        goto out;
    }
    if (sm_unwrap_command(&c->sm, &a, &plain, &p, &e) != 0) {
        abort_session(c);
        rc = put_sw(resp, SW_SM_WRONG);
        goto out;
    }
    sw = handle(c, &p, true, &data);
    if (sw == 0)
        goto out;
    rc = sm_wrap_response(&c->sm, data.data, data.len, sw, resp, &e);
    if (c->ca_pending) {
        c->ca_pending = false;
        c->sm = c->ca_next;
        sm_wipe(&c->ca_next);
    }
out:
    buf_release_secret(&data);
    buf_release_secret(&plain);
    return rc;
}

static int vchip_transmit(void *ctx, const unsigned char *cmd, size_t len, struct buf *resp,
                          struct err *err)
{
    if (vchip_apdu(ctx, cmd, len, resp) != 0)
        return err_set(err, "vchip: out of memory");
    return 0;
}

void rd_transport_vchip(struct rd_transport *t, struct vchip *c)
{
    t->transmit = vchip_transmit;
    t->ctx = c;
}
