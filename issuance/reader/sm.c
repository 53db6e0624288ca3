/* civreg issuance/reader: secure messaging (ICAO Doc 9303-11 §9.8) with
 * 3DES (BAC) and AES (PACE, Chip Authentication) and the KDF of §9.7.1. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "core/secret.h"
#include "issuance/icao/icao.h"
#include "reader_int.h"

size_t sm_key_len(enum sm_cipher cipher)
{
    switch (cipher) {
    case SM_3DES:
    case SM_AES128: return 16;
    case SM_AES192: return 24;
    case SM_AES256: return 32;
    default: return 0;
    }
}

void sm_des_parity(unsigned char *k, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char b = k[i] & 0xFE;
        unsigned ones = 0;
        for (int j = 1; j < 8; j++)
            ones += (b >> j) & 1u;
        k[i] = (unsigned char)(b | ((ones & 1u) ? 0 : 1));
    }
}

int sm_kdf(enum sm_cipher cipher, const unsigned char *secret, size_t len, uint32_t counter,
           unsigned char *out, struct err *err)
{
    unsigned char c[4] = { (unsigned char)(counter >> 24), (unsigned char)(counter >> 16),
                           (unsigned char)(counter >> 8), (unsigned char)counter };
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned hl = 0;
    size_t kl = sm_key_len(cipher);
    const EVP_MD *md = (cipher == SM_AES192 || cipher == SM_AES256) ? EVP_sha256() : EVP_sha1();
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int ok = m && kl && EVP_DigestInit_ex(m, md, NULL) && EVP_DigestUpdate(m, secret, len) &&
             EVP_DigestUpdate(m, c, 4) && EVP_DigestFinal_ex(m, h, &hl) && hl >= kl;

    EVP_MD_CTX_free(m);
    if (!ok) {
        secret_wipe(h, sizeof h);
        return err_set(err, "sm: key derivation failed");
    }
    memcpy(out, h, kl);
    secret_wipe(h, sizeof h);
    if (cipher == SM_3DES)
        sm_des_parity(out, kl);
    return 0;
}

void sm_init(struct sm_ctx *c, enum sm_cipher cipher, const unsigned char *kenc,
             const unsigned char *kmac, const unsigned char *ssc, size_t ssc_len)
{
    memset(c, 0, sizeof *c);
    c->cipher = cipher;
    c->klen = sm_key_len(cipher);
    c->bs = cipher == SM_3DES ? 8 : 16;
    memcpy(c->enc, kenc, c->klen);
    memcpy(c->mac, kmac, c->klen);
    if (ssc && ssc_len <= c->bs)
        memcpy(c->ssc + (c->bs - ssc_len), ssc, ssc_len);
}

void sm_wipe(struct sm_ctx *c)
{
    secret_wipe(c, sizeof *c);
}

int sm_pad(struct buf *b, size_t bs)
{
    if (buf_append_byte(b, 0x80) != 0)
        return -1;
    while (b->len % bs)
        if (buf_append_byte(b, 0) != 0)
            return -1;
    return 0;
}

int sm_unpad(const unsigned char *p, size_t *len)
{
    size_t n = *len;
    while (n > 0 && p[n - 1] == 0)
        n--;
    if (n == 0 || p[n - 1] != 0x80)
        return -1;
    *len = n - 1;
    return 0;
}

static void ssc_increment(struct sm_ctx *c)
{
    for (size_t i = c->bs; i-- > 0;)
        if (++c->ssc[i] != 0)
            break;
}

/* One EVP cipher pass without padding over whole blocks. */
static int cipher_run(const char *name, const unsigned char *key, const unsigned char *iv,
                      bool encrypt, const unsigned char *in, size_t len, unsigned char *out)
{
    EVP_CIPHER *ci = EVP_CIPHER_fetch(NULL, name, NULL);
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0, ok;

    ok = ci && x && len <= (size_t)0x7FFFFFFF &&
         EVP_CipherInit_ex2(x, ci, key, iv, encrypt ? 1 : 0, NULL) &&
         EVP_CIPHER_CTX_set_padding(x, 0) && EVP_CipherUpdate(x, out, &n1, in, (int)len) &&
         EVP_CipherFinal_ex(x, out + n1, &n2) && (size_t)(n1 + n2) == len;
    EVP_CIPHER_CTX_free(x);
    EVP_CIPHER_free(ci);
    return ok ? 0 : -1;
}

static const char *cbc_name(enum sm_cipher c)
{
    switch (c) {
    case SM_3DES: return "DES-EDE-CBC";
    case SM_AES128: return "AES-128-CBC";
    case SM_AES192: return "AES-192-CBC";
    case SM_AES256: return "AES-256-CBC";
    default: return NULL;
    }
}

static const char *ecb_name(enum sm_cipher c)
{
    switch (c) {
    case SM_AES128: return "AES-128-ECB";
    case SM_AES192: return "AES-192-ECB";
    case SM_AES256: return "AES-256-ECB";
    default: return NULL;
    }
}

int sm_cbc(const struct sm_ctx *c, bool encrypt, bool zero_iv, const unsigned char *in,
           size_t len, unsigned char *out, struct err *err)
{
    unsigned char iv[16] = { 0 };

    if (c->bs == 0 || len % c->bs)
        return err_set(err, "sm: %zu bytes are not whole cipher blocks", len);
    if (c->cipher != SM_3DES && !zero_iv &&
        cipher_run(ecb_name(c->cipher), c->enc, NULL, true, c->ssc, 16, iv) != 0)
        return err_set(err, "sm: computing the AES IV failed");
    if (len == 0)
        return 0;
    if (cipher_run(cbc_name(c->cipher), c->enc, iv, encrypt, in, len, out) != 0)
        return err_set(err, "sm: %s failed", encrypt ? "encryption" : "decryption");
    return 0;
}

/* ISO/IEC 9797-1 MAC algorithm 3 with DES: CBC-MAC with Ka over all blocks,
 * then the last chaining value decrypted with Kb and encrypted with Ka. A
 * single DES with Ka is 3DES with (Ka, Ka), which keeps the default provider. */
static int retail_mac(const unsigned char k[16], const unsigned char *p, size_t len,
                      unsigned char mac[8])
{
    unsigned char kk[16], h[8] = { 0 }, x[8];
    int rc = 0;

    if (len == 0 || len % 8)
        return -1;
    memcpy(kk, k, 8);
    memcpy(kk + 8, k, 8);
    for (size_t off = 0; off < len && rc == 0; off += 8) {
        for (int i = 0; i < 8; i++)
            x[i] = h[i] ^ p[off + i];
        if (off + 8 < len)
            rc = cipher_run("DES-EDE-ECB", kk, NULL, true, x, 8, h);
        else
            rc = cipher_run("DES-EDE-ECB", k, NULL, true, x, 8, h);
    }
    memcpy(mac, h, 8);
    secret_wipe(kk, sizeof kk);
    secret_wipe(h, sizeof h);
    secret_wipe(x, sizeof x);
    return rc;
}

static int aes_cmac(const struct sm_ctx *c, const unsigned char *p, size_t len,
                    unsigned char mac[8])
{
    EVP_MAC *m = EVP_MAC_fetch(NULL, "CMAC", NULL);
    EVP_MAC_CTX *x = m ? EVP_MAC_CTX_new(m) : NULL;
    char cname[16];
    OSSL_PARAM params[2];
    unsigned char full[16];
    size_t outl = 0;
    int ok;

    /* cannot truncate: "AES-128-CBC" or "DES-EDE-CBC" */
    (void)snprintf(cname, sizeof cname, "%s", cbc_name(c->cipher));
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cname, 0);
    params[1] = OSSL_PARAM_construct_end();
    ok = x && EVP_MAC_init(x, c->mac, c->klen, params) && EVP_MAC_update(x, p, len) &&
         EVP_MAC_final(x, full, &outl, sizeof full) && outl == 16;
    EVP_MAC_CTX_free(x);
    EVP_MAC_free(m);
    if (ok)
        memcpy(mac, full, 8);
    secret_wipe(full, sizeof full);
    return ok ? 0 : -1;
}

int sm_mac(const struct sm_ctx *c, const unsigned char *p, size_t len, unsigned char mac[8],
           struct err *err)
{
    int r = c->cipher == SM_3DES ? retail_mac(c->mac, p, len, mac) : aes_cmac(c, p, len, mac);
    return r == 0 ? 0 : err_set(err, "sm: computing the MAC failed");
}

/* Append a BER length (short or long form) for N. */
static int put_len(struct buf *b, size_t n)
{
    unsigned char h[4];
    size_t k = 0;
    if (n < 0x80)
        h[k++] = (unsigned char)n;
    else if (n <= 0xFF) {
        h[k++] = 0x81;
        h[k++] = (unsigned char)n;
    } else if (n <= 0xFFFF) {
        h[k++] = 0x82;
        h[k++] = (unsigned char)(n >> 8);
        h[k++] = (unsigned char)n;
    } else
        return -1;
    return buf_append(b, h, k);
}

/* The MAC of a protected APDU (Doc 9303-11 §9.8.3): over the send sequence
 * counter, then for a command its header HDR padded, then the data objects
 * DOS (padded; in a command only when there are any). HDR is NULL for a
 * response. Fails with "sm: command too long" or "sm: response too long",
 * or as sm_mac. */
static int sm_apdu_mac(const struct sm_ctx *c, const unsigned char hdr[4],
                       const unsigned char *dos, size_t len, unsigned char mac[8],
                       struct err *err)
{
    struct buf n = BUF_INIT(hdr ? APDU_MAX : RESP_MAX);
    int rc;

    if (buf_append(&n, c->ssc, c->bs) != 0 ||
        (hdr && (buf_append(&n, hdr, 4) != 0 || sm_pad(&n, c->bs) != 0)) ||
        buf_append(&n, dos, len) != 0 || ((!hdr || len > 0) && sm_pad(&n, c->bs) != 0))
        rc = err_set(err, "sm: %s too long", hdr ? "command" : "response");
    else
        rc = sm_mac(c, n.data, n.len, mac, err);
    buf_release_secret(&n);
    return rc;
}

/* DO87 (01 || encrypted padded DATA) appended to OUT. */
static int put_do87(struct sm_ctx *c, const unsigned char *data, size_t len, struct buf *out,
                    struct err *err)
{
    struct buf p = BUF_INIT(APDU_MAX);
    int rc = -1;

    if (buf_append(&p, data, len) != 0 || sm_pad(&p, c->bs) != 0) {
        err_set(err, "sm: data too long");
        goto out;
    }
    if (sm_cbc(c, true, false, p.data, p.len, p.data, err) != 0)
        goto out;
    if (buf_append_byte(out, 0x87) != 0 || put_len(out, p.len + 1) != 0 ||
        buf_append_byte(out, 0x01) != 0 || buf_append(out, p.data, p.len) != 0) {
        err_set(err, "sm: data too long");
        goto out;
    }
    rc = 0;
out:
    buf_release_secret(&p);
    return rc;
}

int sm_wrap_command(struct sm_ctx *c, const struct apdu *a, struct buf *out, struct err *err)
{
    struct buf dos = BUF_INIT(APDU_MAX);
    unsigned char mac[8], hdr[4] = { (unsigned char)(a->cla | 0x0C), a->ins, a->p1, a->p2 };
    struct apdu w;
    int rc = -1;

    if ((a->cla & 0x0C) != 0 || (a->ins & 1))
        return err_set(err, "sm: cannot protect CLA %02X INS %02X", a->cla, a->ins);
    ssc_increment(c);
    if (a->lc > 0 && put_do87(c, a->data, a->lc, &dos, err) != 0)
        goto out;
    if (a->le_present) {
        unsigned char le[4] = { 0x97, 0x01, 0, 0 };
        size_t k = 3;
        if (a->le > 256 || a->extended) {
            le[1] = 2;
            le[2] = (unsigned char)((a->le >= 65536 ? 0 : a->le) >> 8);
            le[3] = (unsigned char)(a->le >= 65536 ? 0 : a->le);
            k = 4;
        } else
            le[2] = (unsigned char)(a->le == 256 ? 0 : a->le);
        if (buf_append(&dos, le, k) != 0)
            goto oom;
    }
    if (sm_apdu_mac(c, hdr, dos.data, dos.len, mac, err) != 0)
        goto out;
    if (buf_append(&dos, "\x8E\x08", 2) != 0 || buf_append(&dos, mac, 8) != 0)
        goto oom;
    w = (struct apdu){ .cla = (unsigned char)(a->cla | 0x0C), .ins = a->ins, .p1 = a->p1,
                       .p2 = a->p2, .data = dos.data, .lc = dos.len, .le_present = true,
                       .le = (a->le > 231 || a->extended || dos.len > 255) ? 65536 : 256 };
    w.extended = w.le == 65536;
    rc = apdu_encode(&w, out, err);
    goto out;
oom:
    err_set(err, "sm: command too long");
out:
    buf_release_secret(&dos);
    return rc;
}

/* The data objects of a protected APDU (Doc 9303-11 §9.8): 87 (encrypted
 * data), then MID_TAG (97 Le in a command, 99 status in a response), then
 * 8E (the MAC), each optional, once and in that order; with MAC_LAST the MAC
 * must end the data. The MAC covers the data up to MAC_END. WHERE and
 * UNEXPECTED word the refusal: "sm: UNEXPECTED data object %X in the WHERE". */
struct sm_objects {
    struct tlv do87, mid, do8e;
    bool h87, hmid, h8e;
    size_t mac_end;
};

static int sm_objects_split(const unsigned char *p, size_t len, unsigned mid_tag, bool mac_last,
                            const char *unexpected, const char *where, struct sm_objects *o,
                            struct err *err)
{
    size_t off = 0;
    struct tlv t;

    memset(o, 0, sizeof *o);
    while (off < len) {
        size_t used;
        if (tlv_decode(p + off, len - off, &t, &used, err) != 0)
            return -1;
        if (t.tag == 0x87 && !o->h87 && !o->hmid && !o->h8e) {
            o->do87 = t;
            o->h87 = true;
            o->mac_end = off + used;
        } else if (t.tag == mid_tag && !o->hmid && !o->h8e) {
            o->mid = t;
            o->hmid = true;
            o->mac_end = off + used;
        } else if (t.tag == 0x8E && !o->h8e && (!mac_last || off + used == len)) {
            o->do8e = t;
            o->h8e = true;
        } else {
            return err_set(err, "sm: %s data object %X in the %s", unexpected, t.tag, where);
        }
        off += used;
    }
    return 0;
}

/* Deciphers data object 87 (padding-content indicator 01, then whole cipher
 * blocks) into DEST and strips the padding; WHAT ("command", "response")
 * names the message in the errors. */
static int sm_open_do87(const struct sm_ctx *c, const struct tlv *do87, struct buf *dest,
                        const char *what, struct err *err)
{
    size_t cl;

    if (do87->len < 1 + c->bs || do87->value[0] != 0x01 || (do87->len - 1) % c->bs)
        return err_set(err, "sm: malformed encrypted data object 87");
    cl = do87->len - 1;
    if (buf_append(dest, do87->value + 1, cl) != 0)
        return err_set(err, "sm: %s too long", what);
    if (sm_cbc(c, false, false, dest->data, cl, dest->data, err) != 0)
        return -1;
    if (sm_unpad(dest->data, &cl) != 0)
        return err_set(err, "sm: bad padding in the decrypted %s", what);
    dest->len = cl;
    return 0;
}

int sm_unwrap_response(struct sm_ctx *c, const unsigned char *resp, size_t len,
                       struct buf *data, unsigned *sw, struct err *err)
{
    struct sm_objects o;
    unsigned char mac[8];
    int rc = -1;

    if (len < 2)
        return err_set(err, "sm: response of %zu bytes has no status word", len);
    ssc_increment(c);
    len -= 2;
    if (len == 0) {
        unsigned plain = ((unsigned)resp[0] << 8) | resp[1];
        return err_set(err, "sm: the chip answered %04X without secure messaging: the session "
                            "is over", plain);
    }
    if (sm_objects_split(resp, len, 0x99, false, "unexpected or repeated", "response", &o,
                         err) != 0)
        goto out;
    if (!o.h8e || o.do8e.len != 8 || !o.hmid || o.mid.len != 2) {
        err_set(err, "sm: the response lacks its MAC (8E) or status (99) data object");
        goto out;
    }
    if (sm_apdu_mac(c, NULL, resp, o.mac_end, mac, err) != 0)
        goto out;
    if (CRYPTO_memcmp(mac, o.do8e.value, 8) != 0) {
        err_set(err, "sm: the response MAC is wrong: the session is over");
        goto out;
    }
    *sw = ((unsigned)o.mid.value[0] << 8) | o.mid.value[1];
    buf_reset(data);
    if (o.h87 && sm_open_do87(c, &o.do87, data, "response", err) != 0)
        goto out;
    rc = 0;
out:
    return rc;
}

int sm_unwrap_command(struct sm_ctx *c, const struct apdu *in, struct buf *plain,
                      struct apdu *out, struct err *err)
{
    struct sm_objects o;
    unsigned char mac[8];
    int rc = -1;

    ssc_increment(c);
    if ((in->cla & 0x0C) != 0x0C)
        return err_set(err, "sm: plain command in a secure messaging session");
    if (sm_objects_split(in->data, in->lc, 0x97, true, "unexpected", "command", &o, err) != 0)
        goto out;
    if (!o.h8e || o.do8e.len != 8) {
        err_set(err, "sm: the command has no MAC");
        goto out;
    }
    {
        unsigned char hdr[4] = { in->cla, in->ins, in->p1, in->p2 };
        if (sm_apdu_mac(c, hdr, in->data, o.mac_end, mac, err) != 0)
            goto out;
    }
    if (CRYPTO_memcmp(mac, o.do8e.value, 8) != 0) {
        err_set(err, "sm: wrong MAC");
        goto out;
    }
    *out = (struct apdu){ .cla = (unsigned char)(in->cla & ~0x0Cu), .ins = in->ins, .p1 = in->p1,
                          .p2 = in->p2 };
    buf_reset(plain);
    if (o.h87) {
        if (sm_open_do87(c, &o.do87, plain, "command", err) != 0)
            goto out;
        out->data = plain->data;
        out->lc = plain->len;
    }
    if (o.hmid) {
        if (o.mid.len == 1)
            out->le = o.mid.value[0] ? o.mid.value[0] : 256;
        else if (o.mid.len == 2) {
            out->le = ((size_t)o.mid.value[0] << 8) | o.mid.value[1];
            if (out->le == 0)
                out->le = 65536;
            out->extended = true;
        } else {
            err_set(err, "sm: malformed Le data object 97");
            goto out;
        }
        out->le_present = true;
    }
    rc = 0;
out:
    return rc;
}

int sm_wrap_response(struct sm_ctx *c, const unsigned char *data, size_t len, unsigned sw,
                     struct buf *out, struct err *err)
{
    unsigned char mac[8], s[4] = { 0x99, 0x02, (unsigned char)(sw >> 8), (unsigned char)sw };
    size_t start = out->len;
    int rc = -1;

    ssc_increment(c);
    if (len > 0 && put_do87(c, data, len, out, err) != 0)
        goto out;
    if (buf_append(out, s, 4) != 0) {
        err_set(err, "sm: response too long");
        goto out;
    }
    if (sm_apdu_mac(c, NULL, out->data + start, out->len - start, mac, err) != 0)
        goto out;
    if (buf_append(out, "\x8E\x08", 2) != 0 || buf_append(out, mac, 8) != 0 ||
        buf_append(out, s + 2, 2) != 0) {
        err_set(err, "sm: response too long");
        goto out;
    }
    rc = 0;
out:
    return rc;
}
