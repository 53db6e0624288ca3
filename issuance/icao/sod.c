/* EF.SOD: building (CMS SignedData over an LDSSecurityObject) and strict
 * reading. Doc 9303-10 §4.6.2, Doc 9303-12 §4.6 (SignedData profile). */
#include "sod.h"

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "tlv.h"

#define SOD_CAP ((size_t)1 << 20)

static const char *const md_names[] = { "sha1", "sha224", "sha256", "sha384", "sha512", NULL };

const EVP_MD *sod_digest_by_name(const char *name)
{
    static const EVP_MD *(*const fns[])(void) = { EVP_sha1, EVP_sha224, EVP_sha256, EVP_sha384,
                                                  EVP_sha512 };
    for (size_t i = 0; md_names[i]; i++)
        if (name && strcmp(name, md_names[i]) == 0)
            return fns[i]();
    return NULL;
}

/* The LDSSecurityObject DER. */
static int lso_build(const EVP_MD *md, const struct sod_dg_in *dgs, size_t n, int version,
                     struct buf *out, struct err *err)
{
    ASN1_OBJECT *oid = OBJ_nid2obj(EVP_MD_get_type(md));
    unsigned char *oidder = NULL;
    int oidlen;
    size_t alg_from, list_from;
    int rc = -1;

    if (tlv_put_uint(out, (unsigned long)version, err) != 0)
        return -1;
    alg_from = out->len;
    /* RFC 5754 §2: SHA-2 AlgorithmIdentifier parameters absent */
    oidlen = oid ? i2d_ASN1_OBJECT(oid, &oidder) : -1;
    if (oidlen <= 0 || buf_append(out, oidder, (size_t)oidlen) != 0) {
        pki_ossl_err(err, "sod: encoding the hash algorithm failed");
        goto out;
    }
    if (tlv_wrap(out, alg_from, 0x30, err) != 0)
        goto out;
    list_from = out->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char h[EVP_MAX_MD_SIZE];
        unsigned int hl = 0;
        size_t item = out->len;
        if (dgs[i].sha256 != NULL && EVP_MD_get_type(md) == NID_sha256) {
            memcpy(h, dgs[i].sha256, 32);
            hl = 32;
        } else if (EVP_Digest(dgs[i].data, dgs[i].len, h, &hl, md, NULL) != 1) {
            pki_ossl_err(err, "sod: hashing DG%d failed", dgs[i].number);
            goto out;
        }
        if (tlv_put_uint(out, (unsigned long)dgs[i].number, err) != 0 ||
            tlv_put(out, 0x04, h, hl, err) != 0 || tlv_wrap(out, item, 0x30, err) != 0)
            goto out;
    }
    if (tlv_wrap(out, list_from, 0x30, err) != 0)
        goto out;
    if (version == 1) {
        /* Doc 9303-10 §4.6.2.2: LDSVersionInfo for LDS 1.8 */
        size_t v_from = out->len;
        if (tlv_put(out, 0x13, "0108", 4, err) != 0 || tlv_put(out, 0x13, "040000", 6, err) != 0 ||
            tlv_wrap(out, v_from, 0x30, err) != 0)
            goto out;
    }
    if (tlv_wrap(out, 0, 0x30, err) != 0)
        goto out;
    rc = 0;
out:
    OPENSSL_free(oidder);
    return rc;
}

int sod_build(X509 *ds, EVP_PKEY *key, const struct sod_dg_in *dgs, size_t n,
              const struct sod_build_opts *o, struct buf *out, struct sod_built *info,
              struct err *err)
{
    const EVP_MD *md = sod_digest_by_name(o->digest ? o->digest : "sha256");
    struct buf lso = BUF_INIT(SOD_CAP);
    CMS_ContentInfo *cms = NULL;
    CMS_SignerInfo *si;
    ASN1_OBJECT *ctype = NULL;
    ASN1_TIME *st = NULL;
    BIO *in = NULL;
    unsigned char *der = NULL;
    unsigned flags = CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP;
    bool rsa = EVP_PKEY_is_a(key, "RSA");
    int derlen, rc = -1;
    size_t from = out->len;

    if (md == NULL)
        return err_set(err, "sod: unknown digest '%s' (sha1, sha224, sha256, sha384, sha512)",
                       o->digest);
    if (o->lso_version != 0 && o->lso_version != 1)
        return err_set(err, "sod: LDSSecurityObject version must be 0 or 1");
    if (n < 1 || n > SOD_MAX_DG)
        return err_set(err, "sod: %zu data groups (1 to 16 expected)", n);
    for (size_t i = 0; i < n; i++)
        if (dgs[i].number < 1 || dgs[i].number > 16 || (i && dgs[i].number <= dgs[i - 1].number))
            return err_set(err, "sod: data groups must be numbered 1..16 in ascending order");
    if (lso_build(md, dgs, n, o->lso_version, &lso, err) != 0)
        goto out;
    if (rsa)
        flags |= CMS_KEY_PARAM; /* lets us set RSASSA-PSS on the signer's context */
    ctype = OBJ_txt2obj(SOD_OID_LSO, 1);
    in = BIO_new_mem_buf(lso.data, (int)lso.len);
    cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP);
    if (ctype == NULL || in == NULL || cms == NULL || CMS_set1_eContentType(cms, ctype) != 1 ||
        (si = CMS_add1_signer(cms, ds, key, md, flags)) == NULL) {
        pki_ossl_err(err, "sod: setting up the SignedData failed");
        goto out;
    }
    if (rsa) {
        EVP_PKEY_CTX *pctx = CMS_SignerInfo_get0_pkey_ctx(si);
        /* Doc 9303-12 §4.6: RSASSA-PSS, MGF1 with the same hash, salt = hash length */
        if (pctx == NULL || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0) {
            pki_ossl_err(err, "sod: selecting RSASSA-PSS failed");
            goto out;
        }
    }
    /* RFC 5652 §11.3: signingTime (UTCTime until 2049) */
    if ((st = ASN1_TIME_set(NULL, o->signing_time)) == NULL ||
        CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, ASN1_STRING_type(st), st, -1) !=
            1) {
        pki_ossl_err(err, "sod: adding signingTime failed");
        goto out;
    }
    if (CMS_final(cms, in, NULL, CMS_BINARY) != 1) {
        pki_ossl_err(err, "sod: signing failed");
        goto out;
    }
    derlen = i2d_CMS_ContentInfo(cms, &der);
    if (derlen <= 0) {
        pki_ossl_err(err, "sod: encoding failed");
        goto out;
    }
    if (tlv_put(out, 0x77, der, (size_t)derlen, err) != 0)
        goto out;
    if (info != NULL) {
        X509_ALGOR *sig = NULL;
        const ASN1_OBJECT *obj = NULL;
        memset(info, 0, sizeof *info);
        /* cannot truncate: the digest names are short constants ("sha256") */
        (void)snprintf(info->md_name, sizeof info->md_name, "%s", o->digest ? o->digest : "sha256");
        info->lso_version = o->lso_version;
        CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &sig);
        if (sig)
            X509_ALGOR_get0(&obj, NULL, NULL, sig);
        if (obj == NULL || OBJ_obj2txt(info->sig_alg, sizeof info->sig_alg, obj, 0) <= 0)
            (void)snprintf(info->sig_alg, sizeof info->sig_alg, "?");
    }
    rc = 0;
out:
    if (rc != 0 && out->len > from)
        out->len = from;
    OPENSSL_free(der);
    ASN1_TIME_free(st);
    BIO_free(in);
    CMS_ContentInfo_free(cms);
    ASN1_OBJECT_free(ctype);
    buf_release(&lso);
    return rc;
}

void sod_free(struct sod *s)
{
    if (s == NULL)
        return;
    CMS_ContentInfo_free(s->cms);
    free(s);
}

static int printable(const struct tlv *t, char *out, size_t max, const char *what,
                     struct err *err)
{
    if (t->tag != 0x13 || t->len == 0 || t->len >= max)
        return err_set(err, "sod: %s must be a short PrintableString", what);
    for (size_t i = 0; i < t->len; i++)
        if (t->value[i] < '0' || t->value[i] > '9')
            return err_set(err, "sod: %s must be digits", what);
    memcpy(out, t->value, t->len);
    out[t->len] = '\0';
    return 0;
}

static int lso_parse(struct sod *s, const unsigned char *p, size_t len, struct err *err)
{
    struct tlv top, t, alg, oidt, list, item, a, b;
    struct tlv_iter it, li;
    unsigned long v;
    ASN1_OBJECT *oid = NULL;
    const unsigned char *q;
    int r, nid;

    if (tlv_decode_whole(p, len, &top, err) != 0 || top.tag != 0x30)
        return err_set(err, "sod: LDSSecurityObject is not one DER SEQUENCE");
    tlv_iter_init(&it, top.value, top.len);
    if (tlv_iter_next(&it, &t, err) != 1 || tlv_get_uint(&t, &v, err) != 0 || v > 1)
        return err_set(err, "sod: LDSSecurityObject version must be 0 or 1");
    s->lso_version = (int)v;
    if (tlv_iter_next(&it, &alg, err) != 1 || alg.tag != 0x30)
        return err_set(err, "sod: LDSSecurityObject hashAlgorithm missing");
    if (tlv_decode(alg.value, alg.len, &oidt, NULL, err) != 0 || oidt.tag != 0x06)
        return err_set(err, "sod: hashAlgorithm has no OID");
    if (alg.len != oidt.raw_len &&
        !(alg.len == oidt.raw_len + 2 && alg.value[oidt.raw_len] == 0x05 &&
          alg.value[oidt.raw_len + 1] == 0x00))
        return err_set(err, "sod: hashAlgorithm parameters must be absent or NULL");
    q = oidt.raw;
    oid = d2i_ASN1_OBJECT(NULL, &q, (long)oidt.raw_len);
    nid = oid ? OBJ_obj2nid(oid) : NID_undef;
    ASN1_OBJECT_free(oid);
    s->md = NULL;
    for (size_t i = 0; md_names[i]; i++) {
        const EVP_MD *m = sod_digest_by_name(md_names[i]);
        if (EVP_MD_get_type(m) == nid) {
            s->md = m;
            /* cannot truncate: MD_NAMES are short constants ("sha256") */
            (void)snprintf(s->md_name, sizeof s->md_name, "%s", md_names[i]);
        }
    }
    if (s->md == NULL)
        return err_set(err, "sod: hash algorithm is not SHA-1/224/256/384/512");
    if (tlv_iter_next(&it, &list, err) != 1 || list.tag != 0x30)
        return err_set(err, "sod: dataGroupHashValues missing");
    tlv_iter_init(&li, list.value, list.len);
    while ((r = tlv_iter_next(&li, &item, err)) == 1) {
        struct tlv_iter ii;
        if (item.tag != 0x30)
            return err_set(err, "sod: DataGroupHash is not a SEQUENCE");
        tlv_iter_init(&ii, item.value, item.len);
        if (tlv_iter_next(&ii, &a, err) != 1 || tlv_get_uint(&a, &v, err) != 0 || v < 1 ||
            v > 16)
            return err_set(err, "sod: dataGroupNumber must be 1 to 16");
        if (tlv_iter_next(&ii, &b, err) != 1 || b.tag != 0x04 ||
            b.len != (size_t)EVP_MD_get_size(s->md) || ii.left != 0)
            return err_set(err, "sod: hash of DG%lu is not a %s value", v, s->md_name);
        for (size_t k = 0; k < s->ndg; k++)
            if (s->dg[k].number == (int)v)
                return err_set(err, "sod: DG%lu is listed twice", v);
        if (s->ndg >= SOD_MAX_DG)
            return err_set(err, "sod: more than 16 data group hashes");
        s->dg[s->ndg].number = (int)v;
        memcpy(s->dg[s->ndg].value, b.value, b.len);
        s->dg[s->ndg].len = b.len;
        s->ndg++;
    }
    if (r < 0)
        return err_prefix(err, "sod: dataGroupHashValues");
    if (s->ndg == 0)
        return err_set(err, "sod: no data group hashes");
    r = tlv_iter_next(&it, &t, err);
    if (r < 0)
        return err_prefix(err, "sod: LDSSecurityObject");
    if (r == 1) {
        struct tlv_iter vi;
        if (s->lso_version != 1 || t.tag != 0x30)
            return err_set(err, "sod: ldsVersionInfo is only allowed in a version 1 object");
        tlv_iter_init(&vi, t.value, t.len);
        if (tlv_iter_next(&vi, &a, err) != 1 ||
            printable(&a, s->lds_version, sizeof s->lds_version, "ldsVersion", err) != 0 ||
            tlv_iter_next(&vi, &b, err) != 1 ||
            printable(&b, s->unicode_version, sizeof s->unicode_version, "unicodeVersion", err) !=
                0 ||
            vi.left != 0)
            return err_prefix(err, "sod: ldsVersionInfo");
        if (it.left != 0)
            return err_set(err, "sod: unexpected fields after ldsVersionInfo");
    } else if (s->lso_version == 1) {
        return err_set(err, "sod: version 1 LDSSecurityObject without ldsVersionInfo");
    }
    return 0;
}

int sod_parse(const unsigned char *p, size_t len, struct sod **out, struct err *err)
{
    static const char *const ctypes[] = { SOD_OID_LSO, "1.3.27.1.1.1", "1.2.528.1.1006.1.20.1",
                                          NULL };
    struct sod *s = NULL;
    struct tlv w;
    const unsigned char *q;
    ASN1_OCTET_STRING **content;
    const ASN1_OBJECT *ct;
    bool known = false;
    int rc = -1;

    *out = NULL;
    if (tlv_decode_whole(p, len, &w, err) != 0) {
        err_prefix(err, "sod");
        goto out;
    }
    if (w.tag != 0x77) {
        err_set(err, "sod: outer tag is %X, expected 77 (EF.SOD)", w.tag);
        goto out;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        err_set(err, "sod: out of memory");
        goto out;
    }
    q = w.value;
    s->cms = d2i_CMS_ContentInfo(NULL, &q, (long)w.len);
    if (s->cms == NULL || q != w.value + w.len) {
        pki_ossl_err(err, "sod: not a CMS ContentInfo");
        goto out;
    }
    if (OBJ_obj2nid(CMS_get0_type(s->cms)) != NID_pkcs7_signed) {
        err_set(err, "sod: CMS content is not SignedData");
        goto out;
    }
    ct = CMS_get0_eContentType(s->cms);
    if (ct == NULL || OBJ_obj2txt(s->econtent_type, sizeof s->econtent_type, ct, 1) <= 0) {
        err_set(err, "sod: no eContentType");
        goto out;
    }
    for (size_t i = 0; ctypes[i]; i++)
        known |= strcmp(s->econtent_type, ctypes[i]) == 0;
    if (!known) {
        err_set(err, "sod: eContentType %s is not an LDS security object (2.23.136.1.1.1)",
                s->econtent_type);
        goto out;
    }
    content = CMS_get0_content(s->cms);
    if (content == NULL || *content == NULL) {
        err_set(err, "sod: the LDSSecurityObject is missing (detached content)");
        goto out;
    }
    if (sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(s->cms)) != 1) {
        err_set(err, "sod: %d signers; EF.SOD has exactly one",
                sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(s->cms)));
        goto out;
    }
    if (lso_parse(s, ASN1_STRING_get0_data(*content), (size_t)ASN1_STRING_length(*content), err) !=
        0)
        goto out;
    *out = s;
    s = NULL;
    rc = 0;
out:
    ERR_clear_error();
    sod_free(s);
    return rc;
}
