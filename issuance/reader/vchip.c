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

#include "core/secret.h"
#include "issuance/lds.h"
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
    unsigned char kenc[16], kmac[16]; /* BAC keys from DG1 */
    bool app_selected;
    int cur;                    /* index of the selected EF, -1 none, -2 EF.CardAccess */
    unsigned char rnd_icc[8];
    bool challenge;
    bool sm_active;
    struct sm_ctx sm;
    unsigned aborted;
};

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
    chip_package_release(&c->pkg);
    free(c->card_access);
    if (c->aa_key) {
        secret_wipe(c->aa_key, c->aa_key_len);
        free(c->aa_key);
    }
    secret_wipe(c, sizeof *c);
    free(c);
}

void vchip_reset(struct vchip *c)
{
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

/* Handle a plain (or already unwrapped) command; DATA gets the response
 * data, the return value is the status word (0 = out of memory). */
static unsigned handle(struct vchip *c, const struct apdu *a, bool protected, struct buf *data)
{
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
