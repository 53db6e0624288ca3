/* Passive authentication (Doc 9303-11 §5.1; JMRTD and pymrtd do the same
 * steps). Every step adds one entry to the report, so a refusal names each
 * reason, not only the first. */
#include "passive_auth.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeutil.h"
#include "lds.h"
#include "cert.h"
#include "sod.h"
#include "tlv.h"

#define OID_MASTERLIST "2.23.136.1.1.2"
#define OID_MLS_EKU "2.23.136.1.1.3"

struct pa_trust {
    STACK_OF(X509) *anchors;
    STACK_OF(X509_CRL) *crls;
};

int pa_trust_new(struct pa_trust **out, struct err *err)
{
    struct pa_trust *t = calloc(1, sizeof *t);

    *out = NULL;
    if (t == NULL || (t->anchors = sk_X509_new_null()) == NULL ||
        (t->crls = sk_X509_CRL_new_null()) == NULL) {
        pa_trust_free(t);
        return err_set(err, "passive auth: out of memory");
    }
    *out = t;
    return 0;
}

void pa_trust_free(struct pa_trust *t)
{
    if (t == NULL)
        return;
    sk_X509_pop_free(t->anchors, X509_free);
    sk_X509_CRL_pop_free(t->crls, X509_CRL_free);
    free(t);
}

int pa_trust_count(const struct pa_trust *t)
{
    return sk_X509_num(t->anchors);
}

/* PEM text contains "-----BEGIN " somewhere near the start */
static bool is_pem(const unsigned char *p, size_t len)
{
    static const char tag[] = "-----BEGIN ";
    size_t n = sizeof tag - 1;

    for (size_t i = 0; i + n <= len && i < 4096; i++)
        if (memcmp(p + i, tag, n) == 0)
            return true;
    return false;
}

static int has_eku(X509 *x, const char *oid)
{
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
    char txt[80];
    int found = 0;

    for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++)
        if (OBJ_obj2txt(txt, sizeof txt, sk_ASN1_OBJECT_value(eku, i), 1) > 0 &&
            strcmp(txt, oid) == 0)
            found = 1;
    EXTENDED_KEY_USAGE_free(eku);
    return found;
}

/* An ICAO CSCA master list (Doc 9303-12 §9): check its signature and that
 * its signer (EKU 2.23.136.1.1.3) is issued by a CSCA inside the list, then
 * take every certificate of the list as a trust anchor. */
static int add_masterlist(struct pa_trust *t, CMS_ContentInfo *cms, const char *name,
                          struct err *err)
{
    BIO *out = BIO_new(BIO_s_mem());
    STACK_OF(X509) *list = sk_X509_new_null(), *signers = NULL;
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    char ct[80] = "";
    const unsigned char *data = NULL;
    struct tlv top, ver, set, c;
    struct tlv_iter it;
    long n;
    int rc = -1, r;

    if (out == NULL || list == NULL) {
        err_set(err, "%s: out of memory", name);
        goto out;
    }
    if (OBJ_obj2txt(ct, sizeof ct, CMS_get0_eContentType(cms), 1) <= 0 ||
        strcmp(ct, OID_MASTERLIST) != 0) {
        err_set(err, "%s: CMS content type %s is not a CSCA master list (%s)", name, ct,
                OID_MASTERLIST);
        goto out;
    }
    if (CMS_verify(cms, NULL, NULL, NULL, out, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1) {
        pki_ossl_err(err, "%s: master list signature does not verify", name);
        goto out;
    }
    n = BIO_get_mem_data(out, (char **)&data);
    if (n <= 0 || tlv_decode_whole(data, (size_t)n, &top, err) != 0 || top.tag != 0x30) {
        err_set(err, "%s: master list content is not a DER SEQUENCE", name);
        goto out;
    }
    tlv_iter_init(&it, top.value, top.len);
    if (tlv_iter_next(&it, &ver, err) != 1 || ver.tag != 0x02 ||
        tlv_iter_next(&it, &set, err) != 1 || set.tag != 0x31 || it.left != 0) {
        err_set(err, "%s: master list content is not { version, SET OF Certificate }", name);
        goto out;
    }
    tlv_iter_init(&it, set.value, set.len);
    while ((r = tlv_iter_next(&it, &c, err)) == 1) {
        const unsigned char *q = c.raw;
        X509 *x = d2i_X509(NULL, &q, (long)c.raw_len);
        if (x == NULL || sk_X509_push(list, x) <= 0) {
            X509_free(x);
            pki_ossl_err(err, "%s: a certificate in the master list is unreadable", name);
            goto out;
        }
    }
    if (r < 0 || sk_X509_num(list) == 0) {
        err_prefix(err, "%s: master list holds no readable certificates", name);
        goto out;
    }
    signers = CMS_get0_signers(cms);
    if (signers == NULL || sk_X509_num(signers) != 1) {
        err_set(err, "%s: master list must have one signer", name);
        goto out;
    }
    if (!has_eku(sk_X509_value(signers, 0), OID_MLS_EKU)) {
        err_set(err, "%s: master list signer lacks the extended key usage %s", name, OID_MLS_EKU);
        goto out;
    }
    store = X509_STORE_new();
    ctx = X509_STORE_CTX_new();
    if (store == NULL || ctx == NULL ||
        X509_STORE_CTX_init(ctx, store, sk_X509_value(signers, 0), NULL) != 1) {
        err_set(err, "%s: out of memory", name);
        goto out;
    }
    X509_STORE_CTX_set0_trusted_stack(ctx, list);
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME);
    if (X509_verify_cert(ctx) != 1) {
        err_set(err, "%s: master list signer is not issued by a CSCA in the list (%s)", name,
                X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        goto out;
    }
    while (sk_X509_num(list) > 0) {
        X509 *x = sk_X509_shift(list);
        if (sk_X509_push(t->anchors, x) <= 0) {
            X509_free(x);
            err_set(err, "%s: out of memory", name);
            goto out;
        }
    }
    rc = 0;
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_free(signers);
    sk_X509_pop_free(list, X509_free);
    BIO_free(out);
    return rc;
}

static int add_der_object(struct pa_trust *t, const unsigned char *p, size_t len,
                          const char *name, struct err *err)
{
    const unsigned char *q = p;
    X509 *x = d2i_X509(NULL, &q, (long)len);
    CMS_ContentInfo *cms;
    int rc;

    if (x != NULL && q == p + len) {
        if (sk_X509_push(t->anchors, x) <= 0) {
            X509_free(x);
            return err_set(err, "%s: out of memory", name);
        }
        return 0;
    }
    X509_free(x);
    q = p;
    cms = d2i_CMS_ContentInfo(NULL, &q, (long)len);
    if (cms == NULL || q != p + len) {
        CMS_ContentInfo_free(cms);
        ERR_clear_error();
        return err_set(err, "%s: neither a certificate nor a CSCA master list", name);
    }
    rc = add_masterlist(t, cms, name, err);
    CMS_ContentInfo_free(cms);
    return rc;
}

int pa_trust_add_csca(struct pa_trust *t, const unsigned char *p, size_t len, const char *name,
                      struct err *err)
{
    BIO *b;
    int count = 0, rc = 0;

    if (len > 0 && len < 64 * 1024 * 1024 && is_pem(p, len)) {
        b = BIO_new_mem_buf(p, (int)len);
        if (b == NULL)
            return err_set(err, "%s: out of memory", name);
        for (;;) {
            char *pname = NULL, *header = NULL;
            unsigned char *data = NULL;
            long dlen = 0;
            if (PEM_read_bio(b, &pname, &header, &data, &dlen) != 1)
                break;
            if (strcmp(pname, "CERTIFICATE") == 0 || strcmp(pname, "CMS") == 0 ||
                strcmp(pname, "PKCS7") == 0)
                rc = add_der_object(t, data, (size_t)dlen, name, err);
            else
                rc = err_set(err, "%s: PEM block '%s' is not a certificate or master list", name,
                             pname);
            OPENSSL_free(pname);
            OPENSSL_free(header);
            OPENSSL_free(data);
            if (rc != 0)
                break;
            count++;
        }
        BIO_free(b);
        ERR_clear_error();
        if (rc == 0 && count == 0)
            rc = err_set(err, "%s: no PEM certificate found", name);
        return rc;
    }
    return add_der_object(t, p, len, name, err);
}

int pa_trust_add_crl(struct pa_trust *t, const unsigned char *p, size_t len, const char *name,
                     struct err *err)
{
    BIO *b = NULL;
    X509_CRL *c;
    int count = 0;

    if (len > 0 && len < 64 * 1024 * 1024 && is_pem(p, len)) {
        b = BIO_new_mem_buf(p, (int)len);
        while (b && (c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
            if (sk_X509_CRL_push(t->crls, c) <= 0) {
                X509_CRL_free(c);
                break;
            }
            count++;
        }
        BIO_free(b);
    } else {
        const unsigned char *q = p;
        c = d2i_X509_CRL(NULL, &q, (long)len);
        if (c && q == p + len && sk_X509_CRL_push(t->crls, c) > 0)
            count++;
        else
            X509_CRL_free(c);
    }
    ERR_clear_error();
    if (count == 0)
        return err_set(err, "%s: no CRL found (PEM or DER expected)", name);
    return 0;
}

/* ---- the report */

struct report {
    json_t *checks;
    bool valid;
    bool oom;
};

static void check(struct report *r, const char *name, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void check(struct report *r, const char *name, bool ok, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    json_t *o;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!ok)
        r->valid = false;
    o = json_pack("{s:s, s:b, s:s}", "check", name, "valid", ok, "message", msg);
    if (o == NULL || json_array_append_new(r->checks, o) != 0)
        r->oom = true;
}

static void name_str(const X509_NAME *n, char *out, size_t size)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *mem = NULL;
    long len;

    /* cannot truncate: a constant shorter than any caller's buffer */
    (void)snprintf(out, size, "?");
    if (b && X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        len = BIO_get_mem_data(b, &mem);
        if (len > 0)
            if (snprintf(out, size, "%.*s", (int)len, mem) >= (int)size && size > 4)
                memcpy(out + size - 4, "...", 4); /* shown shortened, never silently */
    }
    BIO_free(b);
}

static void time_str(time_t t, char out[TIME_ISO8601_LEN + 1])
{
    if (time_iso8601(t, out) != 0)
        /* cannot truncate: a constant shorter than the buffer */
        (void)snprintf(out, TIME_ISO8601_LEN + 1, "(out of range)");
}

static void last_ossl(char *out, size_t size)
{
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, out, size);
    else
        /* cannot truncate: a constant shorter than any caller's buffer */
        (void)snprintf(out, size, "no detail");
    ERR_clear_error();
}

/* The signer's signed attribute NID as an ASN1_TYPE, or NULL. */
static const ASN1_TYPE *signed_attr(CMS_SignerInfo *si, int nid, int *count)
{
    int idx = CMS_signed_get_attr_by_NID(si, nid, -1);
    X509_ATTRIBUTE *a = idx >= 0 ? CMS_signed_get_attr(si, idx) : NULL;

    *count = a ? X509_ATTRIBUTE_count(a) : 0;
    return a && *count == 1 ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;
}

static void check_signature(struct report *r, struct sod *s, CMS_SignerInfo *si, X509 *ds,
                            const char *sigalg)
{
    char why[256];
    int n;
    const ASN1_TYPE *ct = signed_attr(si, NID_pkcs9_contentType, &n);

    if (ds == NULL) {
        check(r, "sod_signature", false,
              "the Document Signer certificate named by the SignerInfo is not in EF.SOD");
        return;
    }
    if (CMS_signed_get_attr_count(si) <= 0) {
        check(r, "sod_signature", false, "EF.SOD has no signed attributes (Doc 9303-10 requires "
                                         "contentType and messageDigest)");
        return;
    }
    if (ct == NULL || ct->type != V_ASN1_OBJECT ||
        OBJ_cmp(ct->value.object, CMS_get0_eContentType(s->cms)) != 0) {
        check(r, "sod_signature", false,
              "the signed contentType attribute is missing or differs from the eContentType");
        return;
    }
    if (CMS_verify(s->cms, NULL, NULL, NULL, NULL, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1) {
        last_ossl(why, sizeof why);
        check(r, "sod_signature", false,
              "the EF.SOD signature (%s) does not verify with the Document Signer's key: %s",
              sigalg, why);
        return;
    }
    check(r, "sod_signature", true, "%s signature over the LDS security object verifies with the "
                                    "Document Signer's key; messageDigest matches",
          sigalg);
}

/* One inspection: the chip as read, the trust material, and what the
 * checks learn from EF.SOD for the ones after them. */
struct inspection {
    struct report r;
    const struct pa_chip *chip;
    const struct pa_trust *trust;
    time_t now;
    time_t at;      /* signingTime, else the inspection time */
    bool have_time; /* EF.SOD carries a signingTime */
    struct sod *s;
    CMS_SignerInfo *si;
    X509 *ds;                 /* the Document Signer, inside EF.SOD (borrowed from sodcerts) */
    X509 *csca;               /* the trusted CSCA the DS chains to (borrowed from chain) */
    STACK_OF(X509) *sodcerts; /* owned */
    STACK_OF(X509) *chain;    /* owned */
    json_t *info;             /* the "sod" member of the report */
    char sigalg[80];
    char ts[TIME_ISO8601_LEN + 1]; /* AT, for messages */
    char ds_issuer[512];
};

/* Doc 9303-10 §4.6.2: EF.SOD readable and well formed. 0 when it is (the
 * other checks follow), 1 when not (the report ends here). */
static int check_sod_structure(struct inspection *p)
{
    const struct pa_chip *chip = p->chip;
    struct err e = ERR_INIT;
    X509_ALGOR *dig = NULL, *sig = NULL;
    const ASN1_OBJECT *obj = NULL;

    if (chip->sod == NULL) {
        check(&p->r, "sod_structure", false, "EF.SOD (011D) was not read");
        return 1;
    }
    if (sod_parse(chip->sod, chip->sod_len, &p->s, &e) != 0) {
        check(&p->r, "sod_structure", false, "%s", err_msg(&e));
        return 1;
    }
    p->si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(p->s->cms), 0);
    CMS_SignerInfo_get0_algs(p->si, NULL, NULL, &dig, &sig);
    if (sig) {
        X509_ALGOR_get0(&obj, NULL, NULL, sig);
        if (obj && OBJ_obj2txt(p->sigalg, sizeof p->sigalg, obj, 0) <= 0)
            /* cannot truncate: a constant: fits */
            (void)snprintf(p->sigalg, sizeof p->sigalg, "?");
    }
    if (dig) {
        char dn[64] = "?";
        X509_ALGOR_get0(&obj, NULL, NULL, dig);
        if (obj)
            OBJ_obj2txt(dn, sizeof dn, obj, 0);
        p->r.oom |= json_object_set_new(p->info, "signer_digest_algorithm", json_string(dn)) != 0;
    }
    check(&p->r, "sod_structure", true,
          "EF.SOD: CMS SignedData, eContentType %s, LDSSecurityObject v%d, %s, %zu data group "
          "hashes",
          p->s->econtent_type, p->s->lso_version, p->s->md_name, p->s->ndg);
    p->r.oom |=
        json_object_set_new(p->info, "econtent_type", json_string(p->s->econtent_type)) != 0;
    p->r.oom |= json_object_set_new(p->info, "lso_version", json_integer(p->s->lso_version)) != 0;
    p->r.oom |= json_object_set_new(p->info, "digest_algorithm", json_string(p->s->md_name)) != 0;
    p->r.oom |= json_object_set_new(p->info, "signature_algorithm", json_string(p->sigalg)) != 0;
    if (p->s->lso_version == 1) {
        p->r.oom |=
            json_object_set_new(p->info, "lds_version", json_string(p->s->lds_version)) != 0;
        p->r.oom |=
            json_object_set_new(p->info, "unicode_version", json_string(p->s->unicode_version)) != 0;
    }
    return 0;
}

/* The DS certificate inside EF.SOD, and the signing time the checks of
 * validity use (the inspection time when EF.SOD has none). */
static void find_signer(struct inspection *p)
{
    const ASN1_TYPE *t;
    int n;

    p->sodcerts = CMS_get1_certs(p->s->cms);
    for (int i = 0; p->sodcerts && i < sk_X509_num(p->sodcerts); i++)
        if (CMS_SignerInfo_cert_cmp(p->si, sk_X509_value(p->sodcerts, i)) == 0)
            p->ds = sk_X509_value(p->sodcerts, i);
    if (p->ds) {
        char serial[ICAO_SERIAL_MAX] = "?", subject[512];
        struct err se = ERR_INIT;
        if (pki_cert_serial(p->ds, serial, &se) != 0)
            /* cannot truncate: a constant: fits */
            (void)snprintf(serial, sizeof serial, "?");
        name_str(X509_get_subject_name(p->ds), subject, sizeof subject);
        name_str(X509_get_issuer_name(p->ds), p->ds_issuer, sizeof p->ds_issuer);
        p->r.oom |= json_object_set_new(p->info, "ds_serial", json_string(serial)) != 0;
        p->r.oom |= json_object_set_new(p->info, "ds_subject", json_string(subject)) != 0;
        p->r.oom |= json_object_set_new(p->info, "ds_issuer", json_string(p->ds_issuer)) != 0;
    }
    t = signed_attr(p->si, NID_pkcs9_signingTime, &n);
    if (t && (t->type == V_ASN1_UTCTIME || t->type == V_ASN1_GENERALIZEDTIME) &&
        pki_asn1_time((const ASN1_TIME *)t->value.asn1_string, &p->at) == 0) {
        p->have_time = true;
        time_str(p->at, p->ts);
        p->r.oom |= json_object_set_new(p->info, "signing_time", json_string(p->ts)) != 0;
    } else {
        p->at = p->now;
    }
    time_str(p->at, p->ts);
}

/* DS -> CSCA path to a trusted CSCA (time is checked separately). -1 only
 * when out of memory. */
static int check_ds_chain(struct inspection *p, struct err *err)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    char csca_name[512];
    int rc = -1;

    if (store == NULL || ctx == NULL || X509_STORE_CTX_init(ctx, store, p->ds, p->sodcerts) != 1) {
        err_set(err, "passive auth: out of memory");
        goto out;
    }
    X509_STORE_CTX_set0_trusted_stack(ctx, p->trust->anchors);
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_NO_CHECK_TIME);
    name_str(X509_get_issuer_name(p->ds), p->ds_issuer, sizeof p->ds_issuer);
    if (sk_X509_num(p->trust->anchors) == 0) {
        check(&p->r, "ds_chain", false, "no CSCA certificate given to check the Document Signer");
    } else if (X509_verify_cert(ctx) == 1 &&
               (p->chain = X509_STORE_CTX_get1_chain(ctx)) != NULL &&
               sk_X509_num(p->chain) >= 2) {
        p->csca = sk_X509_value(p->chain, sk_X509_num(p->chain) - 1);
        name_str(X509_get_subject_name(p->csca), csca_name, sizeof csca_name);
        p->r.oom |= json_object_set_new(p->info, "csca_subject", json_string(csca_name)) != 0;
        check(&p->r, "ds_chain", true,
              "Document Signer is issued and signed by the trusted CSCA %s", csca_name);
    } else {
        int code = X509_STORE_CTX_get_error(ctx);
        check(&p->r, "ds_chain", false,
              "Document Signer (issuer %s) does not chain to any given CSCA: %s", p->ds_issuer,
              code == X509_V_OK ? "the DS itself is a trust anchor"
                                : X509_verify_cert_error_string(code));
    }
    rc = 0;
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

/* The DS may sign documents: keyUsage digitalSignature (Doc 9303-12
 * §7.1.1, table 6), when the certificate restricts its key at all. */
static void check_ds_key_usage(struct inspection *p)
{
    uint32_t ku = X509_get_key_usage(p->ds);

    if (ku != UINT32_MAX && !(ku & KU_DIGITAL_SIGNATURE))
        check(&p->r, "ds_key_usage", false,
              "the Document Signer's keyUsage does not allow digitalSignature");
    else
        check(&p->r, "ds_key_usage", true, "keyUsage allows digitalSignature");
}

/* Doc 9303-12 §7.1.1: the issuer's and subject's countryName of a DS are
 * the same (pymrtd and JMRTD check it too). */
static void check_ds_country(struct inspection *p)
{
    char ci[8] = "", cs[8] = "";
    X509_NAME *ni = X509_get_issuer_name(p->ds), *ns = X509_get_subject_name(p->ds);
    int ii = X509_NAME_get_index_by_NID(ni, NID_countryName, -1);
    int is = X509_NAME_get_index_by_NID(ns, NID_countryName, -1);
    ASN1_STRING *ai = ii >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(ni, ii)) : NULL;
    ASN1_STRING *as = is >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(ns, is)) : NULL;

    if (ai && ASN1_STRING_length(ai) < 8)
        (void)snprintf(ci, sizeof ci, "%.*s", ASN1_STRING_length(ai), /* < 8: fits */
                 (const char *)ASN1_STRING_get0_data(ai));
    if (as && ASN1_STRING_length(as) < 8)
        (void)snprintf(cs, sizeof cs, "%.*s", ASN1_STRING_length(as), /* < 8: fits */
                 (const char *)ASN1_STRING_get0_data(as));
    if (ci[0] == '\0' || strcmp(ci, cs) != 0)
        check(&p->r, "ds_country", false,
              "the Document Signer's issuer country '%s' and subject country '%s' differ or "
              "are missing", ci, cs);
    else
        check(&p->r, "ds_country", true, "issuer and subject countryName are both %s", ci);
}

/* Validity of the DS and CSCA certificates at signing time. */
static void check_validity_at_signing(struct inspection *p)
{
    time_t nb = 0, na = 0, at = p->at;
    bool ok = pki_asn1_time(X509_get0_notBefore(p->ds), &nb) == 0 &&
              pki_asn1_time(X509_get0_notAfter(p->ds), &na) == 0 && at >= nb && at <= na;
    char a[TIME_ISO8601_LEN + 1], b[TIME_ISO8601_LEN + 1];

    time_str(nb, a);
    time_str(na, b);
    if (!ok) {
        check(&p->r, "validity_at_signing", false,
              "Document Signer certificate is valid %s to %s, but EF.SOD was signed %s%s", a, b,
              p->ts, p->have_time ? "" : " (no signingTime: inspection time used)");
    } else if (p->csca &&
               (pki_asn1_time(X509_get0_notBefore(p->csca), &nb) != 0 ||
                pki_asn1_time(X509_get0_notAfter(p->csca), &na) != 0 || at < nb || at > na)) {
        time_str(nb, a);
        time_str(na, b);
        check(&p->r, "validity_at_signing", false,
              "CSCA certificate is valid %s to %s, but EF.SOD was signed %s", a, b, p->ts);
    } else {
        check(&p->r, "validity_at_signing", true,
              "signing time %s%s lies within the validity of the Document Signer%s", p->ts,
              p->have_time ? "" : " (no signingTime: inspection time)",
              p->csca ? " and CSCA certificates" : " certificate");
    }
}

/* The DS private key usage period (Doc 9303-12 §5.2). */
static void check_ds_pkup(struct inspection *p)
{
    time_t nb, na;
    char a[TIME_ISO8601_LEN + 1], b[TIME_ISO8601_LEN + 1];

    if (pki_cert_pkup(p->ds, &nb, &na) != 0) {
        check(&p->r, "ds_private_key_usage_period", true,
              "the Document Signer has no privateKeyUsagePeriod; nothing to check");
        return;
    }
    time_str(nb, a);
    time_str(na, b);
    if ((nb && p->at < nb) || (na && p->at > na))
        check(&p->r, "ds_private_key_usage_period", false,
              "EF.SOD was signed %s, outside the Document Signer's private key usage "
              "period %s to %s",
              p->ts, nb ? a : "-", na ? b : "-");
    else
        check(&p->r, "ds_private_key_usage_period", true,
              "signed %s, within the private key usage period %s to %s", p->ts, nb ? a : "-",
              na ? b : "-");
}

/* The newest CRL issued and signed by the DS's CSCA: the CSCA the chain
 * ended at, or a trusted CSCA with that name when the chain failed. */
static X509_CRL *revocation_list(const struct inspection *p)
{
    const struct pa_trust *trust = p->trust;
    X509_CRL *use = NULL;

    for (int i = 0; i < sk_X509_CRL_num(trust->crls); i++) {
        X509_CRL *c = sk_X509_CRL_value(trust->crls, i);
        if (X509_NAME_cmp(X509_CRL_get_issuer(c), X509_get_issuer_name(p->ds)) != 0)
            continue;
        for (int k = 0; k < sk_X509_num(trust->anchors) && use == NULL; k++) {
            X509 *a = sk_X509_value(trust->anchors, k);
            if ((p->csca == NULL || X509_cmp(a, p->csca) == 0) &&
                X509_NAME_cmp(X509_get_subject_name(a), X509_CRL_get_issuer(c)) == 0 &&
                X509_CRL_verify(c, X509_get0_pubkey(a)) == 1)
                use = c;
        }
        if (use) {
            /* the newest: take a later one when several match */
            for (int j = i + 1; j < sk_X509_CRL_num(trust->crls); j++) {
                X509_CRL *d = sk_X509_CRL_value(trust->crls, j);
                if (X509_NAME_cmp(X509_CRL_get_issuer(d), X509_CRL_get_issuer(use)) == 0 &&
                    ASN1_TIME_compare(X509_CRL_get0_lastUpdate(d),
                                      X509_CRL_get0_lastUpdate(use)) > 0 &&
                    p->csca && X509_CRL_verify(d, X509_get0_pubkey(p->csca)) == 1)
                    use = d;
            }
            break;
        }
    }
    ERR_clear_error();
    return use;
}

/* Revocation: a CRL from the DS's issuer, signed by that CSCA. */
static void check_ds_revocation(struct inspection *p)
{
    static const char *const names[] = { "unspecified",       "keyCompromise",
                                         "cACompromise",      "affiliationChanged",
                                         "superseded",        "cessationOfOperation",
                                         "certificateHold" };
    X509_REVOKED *rev = NULL;
    X509_CRL *use;
    time_t nu = 0;
    char a[TIME_ISO8601_LEN + 1];

    if (sk_X509_CRL_num(p->trust->crls) == 0) {
        check(&p->r, "ds_revocation", true, "not checked: no CRL given");
        return;
    }
    if ((use = revocation_list(p)) == NULL) {
        check(&p->r, "ds_revocation", false,
              "none of the given CRLs is issued and signed by the Document Signer's CSCA (%s)",
              p->ds_issuer);
        return;
    }
    if (X509_CRL_get0_by_cert(use, &rev, p->ds) == 1) {
        time_t when = 0;
        int crit = 0;
        ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit, NULL);
        long code = reason ? ASN1_ENUMERATED_get(reason) : 0;
        ASN1_ENUMERATED_free(reason);
        pki_asn1_time(X509_REVOKED_get0_revocationDate(rev), &when);
        time_str(when, a);
        check(&p->r, "ds_revocation", false,
              "the Document Signer is revoked (since %s, reason %s) on the CRL of %s", a,
              code >= 0 && code < 7 ? names[code] : "other", p->ds_issuer);
    } else if (X509_CRL_get0_nextUpdate(use) &&
               pki_asn1_time(X509_CRL_get0_nextUpdate(use), &nu) == 0 && nu < p->now) {
        time_str(nu, a);
        check(&p->r, "ds_revocation", false,
              "the CRL of %s expired (nextUpdate %s): fetch a current one", p->ds_issuer, a);
    } else {
        check(&p->r, "ds_revocation", true, "not revoked on the current CRL of %s",
              p->ds_issuer);
    }
}

/* Each data group read against its hash in EF.SOD (Doc 9303-11 §5.1). */
static void check_dg_hashes(struct inspection *p)
{
    const struct pa_chip *chip = p->chip;
    const struct sod *s = p->s;

    for (int dg = 1; dg <= 16; dg++) {
        const struct sod_hash *h = NULL;
        unsigned char v[EVP_MAX_MD_SIZE];
        unsigned int vl = 0;
        char name[32];

        /* cannot truncate: dg is 1..16: fits */
        (void)snprintf(name, sizeof name, "dg%d_hash", dg);
        for (size_t k = 0; k < s->ndg; k++)
            if (s->dg[k].number == dg)
                h = &s->dg[k];
        if (chip->dg[dg] == NULL) {
            if (h)
                check(&p->r, name, true,
                      "DG%d is listed in EF.SOD but was not read; not checked", dg);
            continue;
        }
        if (h == NULL) {
            check(&p->r, name, false, "DG%d was read but EF.SOD holds no hash for it", dg);
            continue;
        }
        if (EVP_Digest(chip->dg[dg], chip->dg_len[dg], v, &vl, s->md, NULL) != 1) {
            check(&p->r, name, false, "DG%d could not be hashed", dg);
        } else if (vl != h->len || CRYPTO_memcmp(v, h->value, vl) != 0) {
            check(&p->r, name, false,
                  "DG%d (%zu bytes) does not match its %s hash in EF.SOD: the data group was "
                  "altered",
                  dg, chip->dg_len[dg], s->md_name);
        } else {
            check(&p->r, name, true, "DG%d matches its %s hash in EF.SOD", dg, s->md_name);
        }
    }
    ERR_clear_error();
}

/* EF.COM (not signed): its tag list should name the data groups read. */
static void check_ef_com(struct inspection *p)
{
    const struct pa_chip *chip = p->chip;
    struct tlv t, list;
    struct err ce = ERR_INIT;
    bool ok = true;

    if (chip->com == NULL)
        return;
    if (tlv_decode_whole(chip->com, chip->com_len, &t, &ce) != 0 || t.tag != 0x60 ||
        tlv_find(&t, 0x5C, &list, &ce) != 0) {
        check(&p->r, "ef_com", false, "EF.COM is malformed (%s)",
              ce.msg[0] ? err_msg(&ce) : "no 60 / 5C tag list");
        return;
    }
    for (int dg = 1; dg <= 16; dg++) {
        const struct lds_dg_desc *d = lds_dg_by_number(dg);
        bool listed = memchr(list.value, (int)d->tag, list.len) != NULL;
        if (chip->dg[dg] && !listed)
            ok = false;
    }
    check(&p->r, "ef_com", ok,
          ok ? "EF.COM lists every data group read"
             : "EF.COM does not list every data group read (EF.COM is not signed)");
}

/* DG1 against the printed MRZ (MRZ may be NULL: not compared). */
/* DG14, when read, must parse: a reader takes the Chip Authentication key
 * from it (its hash is checked with the others). */
static void check_dg14(struct inspection *p)
{
    const struct pa_chip *chip = p->chip;
    struct lds_dg14 d;
    struct err e = ERR_INIT;

    if (chip->dg[14] == NULL)
        return;
    if (lds_dg14_parse(chip->dg[14], chip->dg_len[14], &d, &e) != 0)
        check(&p->r, "dg14_structure", false, "%s", err_msg(&e));
    else
        check(&p->r, "dg14_structure", true,
              "DG14 offers Chip Authentication (%s) with an ECDH key on %s",
              d.ca_aes128 ? "ECDH, AES-128" : "a protocol this reader does not run",
              d.param_id == 12 ? "NIST P-256" : "brainpoolP256r1");
}

static void check_dg1_mrz(struct inspection *p, const char *mrz)
{
    const struct pa_chip *chip = p->chip;
    char printed[LDS_MRZ_MAX + 1], chipm[LDS_MRZ_MAX + 1];
    size_t pl = 0, cl = 0;
    struct err me = ERR_INIT;

    if (mrz == NULL)
        return;
    if (lds_mrz_normalize(mrz, strlen(mrz), printed, &pl, &me) != 0)
        check(&p->r, "dg1_mrz", false, "the printed MRZ given is malformed: %s", err_msg(&me));
    else if (chip->dg[1] == NULL)
        check(&p->r, "dg1_mrz", false, "DG1 was not read, so the printed MRZ cannot be compared");
    else if (lds_dg1_mrz(chip->dg[1], chip->dg_len[1], chipm, &cl, &me) != 0)
        check(&p->r, "dg1_mrz", false, "%s", err_msg(&me));
    else if (pl != cl || memcmp(printed, chipm, pl) != 0)
        check(&p->r, "dg1_mrz", false, "the MRZ in DG1 differs from the printed MRZ");
    else
        check(&p->r, "dg1_mrz", true, "the MRZ in DG1 equals the printed MRZ");
}

/* The checks on the Document Signer's certificate, once it is found. -1
 * only when out of memory. */
static int check_signer(struct inspection *p, struct err *err)
{
    if (check_ds_chain(p, err) != 0)
        return -1;
    check_ds_key_usage(p);
    check_ds_country(p);
    check_validity_at_signing(p);
    check_ds_pkup(p);
    check_ds_revocation(p);
    return 0;
}

int passive_auth(const struct pa_chip *chip, const struct pa_trust *trust, const char *mrz,
                 time_t now, json_t **report, bool *valid, struct err *err)
{
    struct inspection p = { .r = { json_array(), true, false }, .chip = chip, .trust = trust,
                            .now = now, .at = now, .info = json_object(), .sigalg = "?" };
    json_t *out = NULL;
    int rc = -1;

    *report = NULL;
    *valid = false;
    if (p.r.checks == NULL || p.info == NULL) {
        err_set(err, "passive auth: out of memory");
        goto out;
    }
    if (check_sod_structure(&p) == 0) {
        find_signer(&p);
        check_signature(&p.r, p.s, p.si, p.ds, p.sigalg);
        if (p.ds != NULL && check_signer(&p, err) != 0)
            goto out;
        check_dg_hashes(&p);
        check_ef_com(&p);
        check_dg14(&p);
        check_dg1_mrz(&p, mrz);
    }
    if (p.r.oom) {
        err_set(err, "passive auth: out of memory building the report");
        goto out;
    }
    out = json_pack("{s:b, s:O, s:O}", "valid", p.r.valid, "checks", p.r.checks, "sod", p.info);
    if (out == NULL) {
        err_set(err, "passive auth: out of memory building the report");
        goto out;
    }
    *report = out;
    *valid = p.r.valid;
    rc = 0;
out:
    ERR_clear_error();
    json_decref(p.r.checks);
    json_decref(p.info);
    sk_X509_pop_free(p.chain, X509_free);
    sk_X509_pop_free(p.sodcerts, X509_free);
    sod_free(p.s);
    return rc;
}
