/* The issuing state's ICAO PKI: certificate profiles of Doc 9303-12 §7. */
#include "pki.h"

#include <limits.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/secret.h"
#include "core/timeutil.h"
#include "db/datadir.h"
#include "pki_int.h"
#include "issuance/icao/icao.h"

#define DAY (24L * 3600)
#define LDS_CAP ((size_t)16 << 20) /* exports: certificates, CRLs, master lists */

/* Doc 9303-12 §7.1.1: document type list extension; §7.1.2: master list
 * signer extended key usage; §9: master list content type */
#define OID_DOCTYPE_LIST "2.23.136.1.1.6.2"
#define OID_MLS_EKU "2.23.136.1.1.3"
#define OID_MASTERLIST "2.23.136.1.1.2"

int pki_alg_parse(const char *name, enum pki_alg *out, struct err *err)
{
    if (name == NULL || strcmp(name, "ecdsa-p256") == 0)
        *out = PKI_ALG_ECDSA_P256;
    else if (strcmp(name, "ecdsa-brainpoolP256r1") == 0)
        *out = PKI_ALG_ECDSA_BP256;
    else if (strcmp(name, "rsa-3072") == 0)
        *out = PKI_ALG_RSA3072;
    else
        return err_set(err, "unknown algorithm '%s' (ecdsa-p256, ecdsa-brainpoolP256r1, rsa-3072)",
                       name);
    return 0;
}

const char *pki_alg_name(enum pki_alg a)
{
    switch (a) {
    case PKI_ALG_ECDSA_P256: return "ecdsa-p256";
    case PKI_ALG_ECDSA_BP256: return "ecdsa-brainpoolP256r1";
    case PKI_ALG_RSA3072: return "rsa-3072";
    }
    return "unknown";
}

const char *pki_kind_name(enum pki_kind k)
{
    switch (k) {
    case PKI_KIND_CSCA: return "csca";
    case PKI_KIND_LINK: return "link";
    case PKI_KIND_DS: return "ds";
    case PKI_KIND_BARCODE: return "barcode";
    case PKI_KIND_MLS: return "mls";
    }
    return "unknown";
}

void pki_set_event_sink(struct pki *p, pki_event_sink sink, void *ctx)
{
    p->sink = sink;
    p->sink_ctx = ctx;
}

void pki_require_events(struct pki *p, bool required)
{
    p->events_required = required;
}

struct db *pki_db(struct pki *p)
{
    return p->db;
}

int pki_emit(struct pki *p, const char *type, json_t *objects, json_t *data, struct err *err)
{
    int rc = 0;

    if (objects == NULL || data == NULL)
        rc = err_set(err, "pki: out of memory recording %s", type);
    else if (p->sink == NULL && p->events_required)
        rc = err_set(err, "pki: %s is a recorded action: sign in with --user (and "
                          "--password-file)", type);
    else if (p->sink)
        rc = p->sink(p->sink_ctx, p->db, type, objects, data, err) == 0
                 ? 0
                 : err_prefix(err, "pki: recording %s", type);
    json_decref(objects);
    json_decref(data);
    return rc;
}

static void der_hash_hex(const unsigned char *der, size_t len, char hex[65])
{
    unsigned char h[32];
    unsigned int hl = 0;

    if (EVP_Digest(der, len, h, &hl, EVP_sha256(), NULL) != 1 || hl != 32)
        memset(h, 0, sizeof h);
    for (size_t i = 0; i < 32; i++)
        (void)snprintf(hex + 2 * i, 3, "%02x", h[i]); /* two digits and the NUL: fits */
}

json_t *pki_cert_object(const char *kind, X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    char serial[PKI_SERIAL_MAX], hex[65];
    json_t *o = NULL;

    if (n > 0 && pki_cert_serial(x, serial, NULL) == 0) {
        der_hash_hex(der, (size_t)n, hex);
        o = json_pack("{s:s, s:s, s:s}", "kind", kind, "id", serial, "hash", hex);
    }
    OPENSSL_free(der);
    return o;
}

/* Append V (stolen) to the event's object list *OBJS. When that fails the
 * list is dropped, and pki_emit then reports "out of memory" instead of
 * signing an event that lacks an object. */
static void objs_add(json_t **objs, json_t *v)
{
    if (*objs == NULL) {
        json_decref(v);
        return;
    }
    if (json_array_append_new(*objs, v) != 0) {
        json_decref(*objs);
        *objs = NULL;
    }
}

/* The event for a certificate just issued. Since version 2 it carries the
 * row's created_at (NOW), so `audit verify` rebuilds it. */
static int emit_cert(struct pki *p, const char *type, enum pki_kind kind, X509 *x,
                     const char *alg, X509 *issuer, time_t now, struct err *err)
{
    json_t *objs = json_array(), *data;
    char nb[TIME_ISO8601_LEN + 1] = "", na[TIME_ISO8601_LEN + 1] = "";
    char created[TIME_ISO8601_LEN + 1] = "";
    time_t t;

    objs_add(&objs, pki_cert_object("certificate", x));
    if (issuer)
        objs_add(&objs, pki_cert_object("certificate", issuer));
    if (pki_asn1_time(X509_get0_notBefore(x), &t) == 0)
        time_iso8601(t, nb);
    if (pki_asn1_time(X509_get0_notAfter(x), &t) == 0)
        time_iso8601(t, na);
    (void)time_iso8601(now, created); /* pki_store_insert refused a time out of range */
    data = json_pack("{s:s, s:s, s:s, s:s, s:s}", "certificate_kind", pki_kind_name(kind),
                     "algorithm", alg, "not_before", nb, "not_after", na, "created_at", created);
    return pki_emit(p, type, objs, data, err);
}

static int key_load(struct pki *p, bool create, struct err *err)
{
    if (seal_keyfile_load(p->key_path, create, p->key, err) != 0)
        return -1;
    p->key_loaded = true;
    return 0;
}

int pki_key_ready(struct pki *p, struct err *err)
{
    if (p->key_loaded)
        return 0;
    if (key_load(p, false, err) != 0)
        return err_prefix(err, "pki: no PKI sealing key (run `civreg pki init`)");
    return 0;
}

/* A handle on DB (borrowed, or opened from DD when DB is NULL). */
static int pki_new(struct datadir *dd, struct db *db, struct pki **out, struct err *err)
{
    struct pki *p = calloc(1, sizeof *p);
    struct buf kb = BUF_INIT(PATH_MAX);
    int rc = -1;

    *out = NULL;
    if (p == NULL)
        return err_set(err, "pki: out of memory");
    if (db) {
        p->db = db;
    } else {
        if (datadir_db_open(dd, DB_OPEN_MIGRATE, &p->db, err) != 0)
            goto out;
        p->own_db = true;
    }
    if (buf_printf(&kb, "%s/pki.key", dd->keys_dir) != 0) {
        err_set(err, "pki: key file path too long");
        goto out;
    }
    p->key_path = strdup(buf_str(&kb));
    p->org = strdup(conf_get(dd->conf, "office_name", DATADIR_DEFAULT_OFFICE_NAME));
    if (p->key_path == NULL || p->org == NULL) {
        err_set(err, "pki: out of memory");
        goto out;
    }
    *out = p;
    p = NULL;
    rc = 0;
out:
    pki_close(p);
    buf_release(&kb);
    return rc;
}

int pki_open(const char *dir, bool create_key, struct pki **out, struct err *err)
{
    struct datadir *dd = NULL;
    struct pki *p = NULL;
    int rc = -1;

    *out = NULL;
    if (datadir_open(dir, &dd, err) != 0)
        goto out;
    if (pki_new(dd, NULL, &p, err) != 0)
        goto out;
    if (key_load(p, create_key, err) != 0) {
        err_prefix(err, "pki: no PKI in %s (run `civreg pki init`)", dir);
        goto out;
    }
    *out = p;
    p = NULL;
    rc = 0;
out:
    pki_close(p);
    datadir_free(dd);
    return rc;
}

int pki_open_db(struct db *db, const char *dir, struct pki **out, struct err *err)
{
    struct datadir *dd = NULL;
    int rc;

    *out = NULL;
    if (datadir_open(dir, &dd, err) != 0)
        return -1;
    rc = pki_new(dd, db, out, err);
    datadir_free(dd);
    return rc;
}

void pki_close(struct pki *p)
{
    if (p == NULL)
        return;
    secret_wipe(p->key, sizeof p->key);
    EVP_PKEY_free(p->cached_key);
    X509_free(p->cached_cert);
    if (p->own_db)
        db_close(p->db);
    free(p->key_path);
    free(p->org);
    free(p);
}

static EVP_PKEY *keygen(enum pki_alg alg, struct err *err)
{
    EVP_PKEY *k = NULL;

    switch (alg) {
    case PKI_ALG_ECDSA_P256: k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); break;
    case PKI_ALG_ECDSA_BP256: k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "brainpoolP256r1"); break;
    case PKI_ALG_RSA3072: k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072); break;
    }
    if (k == NULL)
        pki_ossl_err(err, "pki: generating a %s key failed", pki_alg_name(alg));
    return k;
}

static const char *alg_of_key(EVP_PKEY *k)
{
    char curve[64] = "";
    size_t n = 0;

    if (EVP_PKEY_is_a(k, "RSA"))
        return "rsa-3072";
    if (EVP_PKEY_get_utf8_string_param(k, "group", curve, sizeof curve, &n) == 1 &&
        strcmp(curve, "brainpoolP256r1") == 0)
        return "ecdsa-brainpoolP256r1";
    return "ecdsa-p256";
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value, struct err *err)
{
    X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    int ok = e != NULL && X509_add_ext(x, e, -1) == 1;

    X509_EXTENSION_free(e);
    if (!ok)
        return pki_ossl_err(err, "pki: adding extension %s = %s failed", OBJ_nid2sn(nid), value);
    return 0;
}

/* privateKeyUsagePeriod (RFC 3280 §4.2.1.4, Doc 9303-12 §7.1.1) */
static int add_pkup(X509 *x, time_t nb, time_t na, struct err *err)
{
    PKEY_USAGE_PERIOD *pk = PKEY_USAGE_PERIOD_new();
    int ok = 0;

    if (pk != NULL) {
        pk->notBefore = ASN1_GENERALIZEDTIME_set(NULL, nb);
        pk->notAfter = ASN1_GENERALIZEDTIME_set(NULL, na);
        ok = pk->notBefore && pk->notAfter &&
             X509_add1_ext_i2d(x, NID_private_key_usage_period, pk, 0, X509V3_ADD_DEFAULT) == 1;
    }
    PKEY_USAGE_PERIOD_free(pk);
    if (!ok)
        return pki_ossl_err(err, "pki: adding the private key usage period failed");
    return 0;
}

/* A non-critical extension from DER bytes (for ICAO OIDs OpenSSL does not
 * know). */
static int add_raw_ext(X509 *x, const char *oid, const unsigned char *der, size_t len,
                       struct err *err)
{
    ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *e = NULL;
    int ok = 0;

    if (o && os && ASN1_OCTET_STRING_set(os, der, (int)len) == 1 &&
        (e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os)) != NULL && X509_add_ext(x, e, -1) == 1)
        ok = 1;
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(o);
    if (!ok)
        return pki_ossl_err(err, "pki: adding extension %s failed", oid);
    return 0;
}

/* Doc 9303-12 §7.1.1.2: DocumentTypeListSyntax ::= SEQUENCE { version
 * INTEGER (v0), docTypeList SET OF PrintableString (SIZE(2)) } */
static int add_doctype_list(X509 *x, const char *types, struct err *err)
{
    struct buf b = BUF_INIT(1024);
    char list[64][3];
    size_t n = 0, set_from;
    const char *s = types;
    int rc = -1;

    while (*s) {
        size_t k = strcspn(s, ",");
        if (k < 1 || k > 2 || n >= 64) {
            err_set(err, "pki: document type list '%s': each type is 1 or 2 letters, "
                         "comma-separated", types);
            goto out;
        }
        for (size_t i = 0; i < k; i++)
            if (s[i] < 'A' || s[i] > 'Z') {
                err_set(err, "pki: document type list '%s': types are upper-case letters",
                        types);
                goto out;
            }
        memcpy(list[n], s, k);
        list[n][k] = '\0';
        n++;
        s += k;
        if (*s == ',')
            s++;
    }
    if (n == 0) {
        err_set(err, "pki: empty document type list");
        goto out;
    }
    /* DER SET OF: elements in ascending order of their encodings */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0; j--) {
            size_t la = strlen(list[j - 1]), lb = strlen(list[j]);
            if (la > lb || (la == lb && strcmp(list[j - 1], list[j]) > 0)) {
                char t[3];
                memcpy(t, list[j], 3);
                memcpy(list[j], list[j - 1], 3);
                memcpy(list[j - 1], t, 3);
            }
        }
    if (tlv_put_uint(&b, 0, err) != 0)
        goto out;
    set_from = b.len;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(list[i], list[i - 1]) == 0)
            continue;
        if (tlv_put(&b, 0x13, list[i], strlen(list[i]), err) != 0)
            goto out;
    }
    if (tlv_wrap(&b, set_from, 0x31, err) != 0 || tlv_wrap(&b, 0, 0x30, err) != 0)
        goto out;
    rc = add_raw_ext(x, OID_DOCTYPE_LIST, b.data, b.len, err);
out:
    buf_release(&b);
    return rc;
}

static X509_NAME *make_name(const char *country, const char *org, const char *cn,
                            struct err *err)
{
    X509_NAME *n = X509_NAME_new();

    if (n == NULL ||
        X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)country, -1, -1,
                                   0) != 1 ||
        X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1,
                                   0) != 1 ||
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) != 1) {
        X509_NAME_free(n);
        pki_ossl_err(err, "pki: building the name '%s' failed", cn);
        return NULL;
    }
    return n;
}

/* 16 random bytes, top bit clear (RFC 5280 §4.1.2.2: positive, <= 20 bytes) */
static int new_serial(X509 *x, struct err *err)
{
    unsigned char r[16];
    BIGNUM *bn;
    int ok;

    secret_random(r, sizeof r);
    r[0] = (unsigned char)((r[0] & 0x7F) | 0x10);
    bn = BN_bin2bn(r, sizeof r, NULL);
    ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    if (!ok)
        return pki_ossl_err(err, "pki: setting a serial number failed");
    return 0;
}

static const char *country_of(X509 *x, char out[3])
{
    X509_NAME *n = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(n, NID_countryName, -1);
    ASN1_STRING *s = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)) : NULL;

    if (s == NULL || ASN1_STRING_length(s) != 2)
        return NULL;
    memcpy(out, ASN1_STRING_get0_data(s), 2);
    out[2] = '\0';
    return out;
}

struct cert_spec {
    X509_NAME *subject;
    EVP_PKEY *pub;         /* subject public key */
    X509 *issuer;          /* NULL: self-signed */
    EVP_PKEY *issuer_key;  /* signs */
    time_t not_before, not_after, pkup_nb, pkup_na;
    enum pki_kind kind;
    const char *crl_url;
    const char *doc_types;
};

/* The key of S is used from NOW for PKUP seconds (its private key usage
 * period); its certificate stays valid AFTER seconds longer, for what the
 * key signed near the period's end (Doc 9303-12 section 5), but never past
 * its issuer's certificate. */
static void spec_validity(struct cert_spec *s, time_t now, time_t pkup, time_t after)
{
    time_t issuer_na;

    s->not_before = now;
    s->pkup_nb = now;
    s->pkup_na = now + pkup;
    s->not_after = s->pkup_na + after;
    if (s->issuer && pki_asn1_time(X509_get0_notAfter(s->issuer), &issuer_na) == 0 &&
        s->not_after > issuer_na)
        s->not_after = issuer_na;
}

static int build_cert(const struct cert_spec *s, X509 **out, struct err *err)
{
    X509 *x = X509_new();
    X509V3_CTX ctx;
    int rc = -1;

    *out = NULL;
    if (x == NULL || X509_set_version(x, X509_VERSION_3) != 1 || new_serial(x, err) != 0 ||
        X509_set_subject_name(x, s->subject) != 1 ||
        X509_set_issuer_name(x, s->issuer ? X509_get_subject_name(s->issuer) : s->subject) != 1 ||
        X509_set_pubkey(x, s->pub) != 1 ||
        X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, (time_t *)&s->not_before) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, (time_t *)&s->not_after) == NULL) {
        if (err && err->msg[0] == '\0')
            pki_ossl_err(err, "pki: building a certificate failed");
        goto out;
    }
    X509V3_set_ctx(&ctx, s->issuer ? s->issuer : x, x, NULL, NULL, 0);
    if (s->kind == PKI_KIND_CSCA || s->kind == PKI_KIND_LINK) {
        /* Doc 9303-12 §7.1.1, table 6: CSCA and link certificates */
        if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0", err) != 0 ||
            add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign", err) != 0)
            goto out;
    } else {
        if (add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature", err) != 0)
            goto out;
    }
    if (add_ext(x, &ctx, NID_subject_key_identifier, "hash", err) != 0 ||
        add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always", err) != 0 ||
        add_pkup(x, s->pkup_nb, s->pkup_na, err) != 0)
        goto out;
    if (s->kind == PKI_KIND_DS && add_doctype_list(x, s->doc_types ? s->doc_types : "P", err) != 0)
        goto out;
    if (s->kind == PKI_KIND_MLS && add_ext(x, &ctx, NID_ext_key_usage, OID_MLS_EKU, err) != 0)
        goto out;
    if (s->crl_url && (s->kind == PKI_KIND_DS || s->kind == PKI_KIND_BARCODE)) {
        struct buf u = BUF_INIT(1024);
        int r;
        if (buf_printf(&u, "URI:%s", s->crl_url) != 0) {
            err_set(err, "pki: CRL URL too long");
            goto out;
        }
        r = add_ext(x, &ctx, NID_crl_distribution_points, buf_str(&u), err);
        buf_release(&u);
        if (r != 0)
            goto out;
    }
    if (X509_sign(x, s->issuer_key, EVP_sha256()) <= 0) {
        pki_ossl_err(err, "pki: signing the certificate failed");
        goto out;
    }
    *out = x;
    x = NULL;
    rc = 0;
out:
    X509_free(x);
    return rc;
}

static int tx_begin(struct pki *p, struct err *err)
{
    return db_tx_begin(p->db, err);
}

static int tx_end(struct pki *p, int rc, struct err *err)
{
    if (rc == 0)
        return db_tx_commit(p->db, err);
    db_tx_rollback(p->db);
    return rc;
}

static const char *setting(struct pki *p, const char *key, char **hold)
{
    struct err e = ERR_INIT;
    free(*hold);
    *hold = NULL;
    if (db_setting_get(p->db, key, hold, &e) != 0)
        return NULL;
    return *hold;
}

static int check_country(const char *cc, struct err *err)
{
    if (cc == NULL || strlen(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z')
        return err_set(err, "pki: country '%s' must be a 2-letter ISO 3166-1 code in upper case "
                            "(X.509 countryName, e.g. UT for the specimen state)",
                       cc ? cc : "");
    return 0;
}

static int make_csca(struct pki *p, const char *country, const char *org, enum pki_alg alg,
                     int pkup_years, time_t now, X509 *old, EVP_PKEY *old_key,
                     char serial[PKI_SERIAL_MAX], char link_serial[PKI_SERIAL_MAX],
                     struct err *err)
{
    EVP_PKEY *k = NULL;
    X509 *x = NULL, *link = NULL;
    X509_NAME *name = NULL;
    struct cert_spec s = { 0 };
    struct buf cn = BUF_INIT(256);
    char tag[16];
    /* Doc 9303-12 §5.1: CSCA key used 3-5 years; certificate valid for the
     * key usage period plus the longest document validity (10 years) plus a
     * DS key usage period */
    const time_t pkup = (time_t)pkup_years * 365 * DAY;
    const time_t after = 10L * 365 * DAY + 3 * DAY + 92 * DAY;
    int rc = -1;

    if ((k = keygen(alg, err)) == NULL)
        goto out;
    /* A distinct name per CSCA key keeps chains unambiguous after rollover;
     * the year says which generation a reader looks at. */
    {
        struct tm tm;
        /* a year has at most 11 characters: tag[16] always holds it */
        if (gmtime_r(&now, &tm) == NULL)
            memset(&tm, 0, sizeof tm);
        (void)snprintf(tag, sizeof tag, "%04d", tm.tm_year + 1900);
    }
    unsigned char r[2];
    secret_random(r, 2);
    if (buf_printf(&cn, "CSCA %s %s-%02X%02X", country, tag, r[0], r[1]) != 0 ||
        (name = make_name(country, org, buf_str(&cn), err)) == NULL)
        goto out;
    s = (struct cert_spec){ .subject = name, .pub = k, .issuer_key = k, .kind = PKI_KIND_CSCA };
    spec_validity(&s, now, pkup, after);
    if (build_cert(&s, &x, err) != 0 || pki_cert_serial(x, serial, err) != 0)
        goto out;
    if (pki_store_insert(p, PKI_KIND_CSCA, NULL, x, pki_alg_name(alg), k, now, err) != 0 ||
        emit_cert(p, "pki.csca.create", PKI_KIND_CSCA, x, pki_alg_name(alg), NULL, now, err) != 0)
        goto out;
    if (old) {
        char old_serial[PKI_SERIAL_MAX];
        /* Doc 9303-12 §5.1.2: link certificate: new public key and name,
         * issued and signed by the old CSCA key */
        s.issuer = old;
        s.issuer_key = old_key;
        s.kind = PKI_KIND_LINK;
        spec_validity(&s, now, pkup, after);
        if (build_cert(&s, &link, err) != 0 || pki_cert_serial(link, link_serial, err) != 0 ||
            pki_cert_serial(old, old_serial, err) != 0 ||
            pki_store_insert(p, PKI_KIND_LINK, old_serial, link, pki_alg_name(alg), NULL, now,
                             err) != 0 ||
            pki_store_set_status(p, old_serial, "retired", NULL, now, err) != 0 ||
            emit_cert(p, "pki.link.create", PKI_KIND_LINK, link, pki_alg_name(alg), old, now,
                      err) != 0)
            goto out;
    }
    rc = 0;
out:
    X509_free(x);
    X509_free(link);
    X509_NAME_free(name);
    EVP_PKEY_free(k);
    buf_release(&cn);
    return rc;
}

int pki_init(struct pki *p, const struct pki_init_opts *o, char serial[PKI_SERIAL_MAX],
             struct err *err)
{
    struct pki_row row = { 0 };
    struct buf url = BUF_INIT(1024);
    const char *org = o->org ? o->org : p->org;
    int rc = -1, r;

    if (check_country(o->country, err) != 0)
        return -1;
    if (o->pkup_years < 0 || o->pkup_years > 5)
        return err_set(err, "pki: CSCA key usage period must be 1 to 5 years (Doc 9303-12)");
    if (o->crl_url && (strncmp(o->crl_url, "http://", 7) != 0 &&
                       strncmp(o->crl_url, "https://", 8) != 0 &&
                       strncmp(o->crl_url, "ldap://", 7) != 0))
        return err_set(err, "pki: CRL URL '%s' must start with http://, https:// or ldap://",
                       o->crl_url);
    if (tx_begin(p, err) != 0)
        return -1;
    r = pki_store_current(p, PKI_KIND_CSCA, 0, &row, err);
    if (r < 0)
        goto out;
    if (r == 0) {
        err_set(err, "pki: a CSCA already exists (serial %s); use `civreg pki rollover` for a "
                     "new key", row.serial);
        goto out;
    }
    if (o->crl_url == NULL) {
        char lc[3] = { (char)(o->country[0] + 32), (char)(o->country[1] + 32), 0 };
        if (buf_printf(&url, "http://pkd.%s.invalid/csca-%s.crl", lc, o->country) != 0) {
            err_set(err, "pki: out of memory");
            goto out;
        }
    } else if (buf_append_str(&url, o->crl_url) != 0) {
        err_set(err, "pki: CRL URL too long");
        goto out;
    }
    if (db_setting_set(p->db, "pki.country", o->country, err) != 0 ||
        db_setting_set(p->db, "pki.org", org, err) != 0 ||
        db_setting_set(p->db, "pki.crl_url", buf_str(&url), err) != 0)
        goto out;
    rc = make_csca(p, o->country, org, o->alg, o->pkup_years ? o->pkup_years : 5, o->now, NULL,
                   NULL, serial, NULL, err);
out:
    pki_row_release(&row);
    buf_release(&url);
    return tx_end(p, rc, err);
}

/* The current CSCA into ROW and its private key into *KEY (both the
 * caller's to release): 0, or -1 with ERR set, "pki: no CSCA yet ..." when
 * there is none. */
static int csca_current_key(struct pki *p, struct pki_row *row, EVP_PKEY **key,
                            struct err *err)
{
    int r = pki_store_current(p, PKI_KIND_CSCA, 0, row, err);

    if (r > 0)
        err_set(err, "pki: no CSCA yet (run `civreg pki init`)");
    if (r != 0)
        return -1;
    return pki_row_key(p, row, key, err);
}

int pki_rollover(struct pki *p, enum pki_alg alg, time_t now, char serial[PKI_SERIAL_MAX],
                 char link_serial[PKI_SERIAL_MAX], struct err *err)
{
    struct pki_row old = { 0 };
    EVP_PKEY *old_key = NULL;
    char *org = NULL;
    char country[3];
    int rc = -1;

    if (tx_begin(p, err) != 0)
        return -1;
    if (csca_current_key(p, &old, &old_key, err) != 0)
        goto out;
    if (country_of(old.cert, country) == NULL) {
        err_set(err, "pki: current CSCA has no countryName");
        goto out;
    }
    rc = make_csca(p, country, setting(p, "pki.org", &org) ? org : p->org, alg, 5, now, old.cert,
                   old_key, serial, link_serial, err);
out:
    free(org);
    EVP_PKEY_free(old_key);
    pki_row_release(&old);
    return tx_end(p, rc, err);
}

int pki_signer_load(struct pki *p, enum pki_kind kind, const char *serial, time_t at,
                    X509 **cert, EVP_PKEY **key, struct err *err)
{
    struct pki_row row = { 0 };
    const char *known = p->cached_cert && p->cached_key ? p->cached_serial : NULL;
    time_t nb, na;
    bool fresh;
    int r, rc = -1;

    *cert = NULL;
    *key = NULL;
    r = pki_store_signer_row(p, kind, serial, at, known, &row, err);
    if (r < 0)
        goto out;
    if (r > 0) {
        if (serial)
            err_set(err, "pki: no certificate with serial %s", serial);
        else
            err_set(err, "pki: no active %s whose private key usage period covers now "
                         "(run `civreg pki issue-%s`)",
                    kind == PKI_KIND_DS ? "document signer" : pki_kind_name(kind),
                    kind == PKI_KIND_DS ? "ds" : kind == PKI_KIND_BARCODE ? "barcode-signer"
                                                                         : "mls");
        goto out;
    }
    if (row.kind != kind) {
        err_set(err, "pki: certificate %s is a %s, not a %s", row.serial, pki_kind_name(row.kind),
                pki_kind_name(kind));
        goto out;
    }
    if (strcmp(row.status, "revoked") == 0) {
        err_set(err, "pki: %s %s is revoked", pki_kind_name(kind), row.serial);
        goto out;
    }
    fresh = row.cert != NULL; /* another signer than the cached one */
    if (fresh) {
        if (pki_cert_pkup(row.cert, &nb, &na) != 0)
            nb = na = 0;
    } else {
        /* the cached signer (KNOWN is set only while its key and certificate are held) */
        if (X509_up_ref(p->cached_cert) != 1) {
            pki_ossl_err(err, "pki: holding certificate %s failed", row.serial);
            goto out;
        }
        row.cert = p->cached_cert;
        nb = p->cached_pkup_nb;
        na = p->cached_pkup_na;
    }
    if ((nb && at < nb) || (na && at > na)) {
        err_set(err, "pki: %s %s may not sign now: outside its private key usage period",
                pki_kind_name(kind), row.serial);
        goto out;
    }
    if (fresh) {
        /* open its key, then cache both */
        if (pki_row_key(p, &row, key, err) != 0)
            goto out;
        EVP_PKEY_free(p->cached_key);
        X509_free(p->cached_cert);
        p->cached_key = EVP_PKEY_up_ref(*key) == 1 ? *key : NULL;
        p->cached_cert = X509_up_ref(row.cert) == 1 ? row.cert : NULL;
        p->cached_pkup_nb = nb;
        p->cached_pkup_na = na;
        memcpy(p->cached_serial, row.serial, sizeof row.serial);
    } else if (EVP_PKEY_up_ref(p->cached_key) == 1) {
        *key = p->cached_key;
    } else {
        pki_ossl_err(err, "pki: holding the key of %s failed", row.serial);
        goto out;
    }
    *cert = row.cert;
    row.cert = NULL;
    rc = 0;
out:
    if (rc != 0) {
        EVP_PKEY_free(*key);
        *key = NULL;
    }
    pki_row_release(&row);
    return rc;
}

int pki_issue(struct pki *p, const struct pki_issue_opts *o, char serial[PKI_SERIAL_MAX],
              struct err *err)
{
    struct pki_row ca = { 0 };
    EVP_PKEY *ca_key = NULL, *k = NULL;
    X509 *x = NULL;
    X509_NAME *name = NULL;
    struct cert_spec s = { 0 };
    struct buf cn = BUF_INIT(256);
    char country[3], *org = NULL, *url = NULL;
    int days = o->pkup_days ? o->pkup_days : 92, years = o->doc_years ? o->doc_years : 10;
    int rc = -1;
    unsigned char rnd[3];

    if (o->kind != PKI_KIND_DS && o->kind != PKI_KIND_BARCODE && o->kind != PKI_KIND_MLS)
        return err_set(err, "pki: can only issue document, barcode and master list signers");
    if (days < 1 || days > 3 * 365)
        return err_set(err, "pki: key usage period of %d days is out of range (1 to 1095)", days);
    if (years < 1 || years > 10)
        return err_set(err, "pki: document validity of %d years is out of range (1 to 10)", years);
    if (tx_begin(p, err) != 0)
        return -1;
    if (csca_current_key(p, &ca, &ca_key, err) != 0 || (k = keygen(o->alg, err)) == NULL)
        goto out;
    {
        time_t cnb, cna;
        if (pki_cert_pkup(ca.cert, &cnb, &cna) == 0 && cna && o->now > cna) {
            err_set(err, "pki: CSCA %s is past its private key usage period: run `civreg pki "
                         "rollover` first", ca.serial);
            goto out;
        }
    }
    if (country_of(ca.cert, country) == NULL) {
        err_set(err, "pki: CSCA has no 2-letter countryName");
        goto out;
    }
    secret_random(rnd, sizeof rnd);
    if (buf_printf(&cn, "%s %s %02X%02X%02X",
                   o->kind == PKI_KIND_DS        ? "Document Signer"
                   : o->kind == PKI_KIND_BARCODE ? "Barcode Signer"
                                                 : "Master List Signer",
                   country, rnd[0], rnd[1], rnd[2]) != 0 ||
        (name = make_name(country, setting(p, "pki.org", &org) ? org : p->org, buf_str(&cn),
                          err)) == NULL)
        goto out;
    s = (struct cert_spec){ .subject = name, .pub = k, .issuer = ca.cert, .issuer_key = ca_key,
                            .kind = o->kind, .crl_url = setting(p, "pki.crl_url", &url),
                            .doc_types = o->doc_types };
    /* Doc 9303-12 §5.2: DS certificate valid for its key usage period plus
     * the validity of the documents it signs */
    spec_validity(&s, o->now, (time_t)days * DAY, (time_t)years * 365 * DAY + 3 * DAY);
    if (build_cert(&s, &x, err) != 0 || pki_cert_serial(x, serial, err) != 0 ||
        pki_store_insert(p, o->kind, ca.serial, x, pki_alg_name(o->alg), k, o->now, err) != 0)
        goto out;
    {
        char type[32];
        /* the longest kind name is "barcode": 18 characters at most */
        (void)snprintf(type, sizeof type, "pki.%s.issue", pki_kind_name(o->kind));
        if (emit_cert(p, type, o->kind, x, pki_alg_name(o->alg), ca.cert, o->now, err) != 0)
            goto out;
    }
    rc = 0;
out:
    X509_free(x);
    X509_NAME_free(name);
    EVP_PKEY_free(k);
    EVP_PKEY_free(ca_key);
    pki_row_release(&ca);
    buf_release(&cn);
    free(org);
    free(url);
    return tx_end(p, rc, err);
}

int pki_revoke(struct pki *p, const char *serial, const char *reason, time_t now,
               struct err *err)
{
    static const char *const reasons[] = { "unspecified", "keyCompromise", "cACompromise",
                                           "affiliationChanged", "superseded",
                                           "cessationOfOperation", "certificateHold", NULL };
    struct pki_row row = { 0 };
    int rc = -1, r, ok = reason == NULL;

    for (size_t i = 0; reason && reasons[i]; i++)
        ok |= strcmp(reason, reasons[i]) == 0;
    if (!ok)
        return err_set(err, "pki: unknown revocation reason '%s' (keyCompromise, superseded, "
                            "cessationOfOperation, unspecified, ...)", reason);
    if (tx_begin(p, err) != 0)
        return -1;
    r = pki_store_get(p, serial, &row, err);
    if (r != 0) {
        if (r > 0)
            err_set(err, "pki: no certificate with serial %s", serial);
        goto out;
    }
    if (row.kind == PKI_KIND_CSCA) {
        err_set(err, "pki: %s is a CSCA; a CSCA is withdrawn by rollover and by removing it from "
                     "the master list, not by its own CRL", serial);
        goto out;
    }
    if (strcmp(row.status, "revoked") == 0) {
        err_set(err, "pki: %s is already revoked", serial);
        goto out;
    }
    if (pki_store_set_status(p, row.serial, "revoked", reason ? reason : "unspecified", now,
                             err) != 0)
        goto out;
    {
        json_t *objs = json_array();
        objs_add(&objs, pki_cert_object("certificate", row.cert));
        char at[TIME_ISO8601_LEN + 1] = "";
        /* version 2: the row's revoked_at (pki_store_set_status took NOW) */
        (void)time_iso8601(now, at);
        rc = pki_emit(p, "pki.revoke", objs,
                      json_pack("{s:s, s:s, s:s}", "reason", reason ? reason : "unspecified",
                                "certificate_kind", pki_kind_name(row.kind), "revoked_at", at),
                      err);
    }
out:
    pki_row_release(&row);
    return tx_end(p, rc, err);
}

struct crl_ctx {
    X509_CRL *crl;
};

static int reason_code(const char *r)
{
    static const char *const names[] = { "unspecified", "keyCompromise", "cACompromise",
                                         "affiliationChanged", "superseded",
                                         "cessationOfOperation", "certificateHold" };
    for (int i = 0; i < 7; i++)
        if (r && strcmp(r, names[i]) == 0)
            return i;
    return 0;
}

static int crl_add(void *vctx, const char *serial, const char *revoked_at, const char *reason,
                   struct err *err)
{
    struct crl_ctx *c = vctx;
    X509_REVOKED *rv = X509_REVOKED_new();
    BIGNUM *bn = NULL;
    ASN1_INTEGER *ai = NULL;
    ASN1_TIME *t = NULL;
    ASN1_ENUMERATED *e = NULL;
    time_t when;
    int ok = 0;

    if (time_parse_iso8601(revoked_at, &when, err) != 0)
        goto out;
    if (rv && BN_hex2bn(&bn, serial) > 0 && (ai = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
        X509_REVOKED_set_serialNumber(rv, ai) == 1 && (t = ASN1_TIME_set(NULL, when)) != NULL &&
        X509_REVOKED_set_revocationDate(rv, t) == 1 && (e = ASN1_ENUMERATED_new()) != NULL &&
        ASN1_ENUMERATED_set(e, reason_code(reason)) == 1 &&
        (reason_code(reason) == 0 ||
         X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, e, 0, 0) == 1) &&
        X509_CRL_add0_revoked(c->crl, rv) == 1) {
        rv = NULL;
        ok = 1;
    } else {
        pki_ossl_err(err, "pki: adding %s to the CRL failed", serial);
    }
out:
    X509_REVOKED_free(rv);
    BN_free(bn);
    ASN1_INTEGER_free(ai);
    ASN1_TIME_free(t);
    ASN1_ENUMERATED_free(e);
    return ok ? 0 : -1;
}

/* One CRL signed by the CSCA SERIAL (current or retired). */
static int crl_issue_one(struct pki *p, const char *serial, int days, time_t now, struct buf *der,
                         struct err *err)
{
    struct pki_row ca = { 0 };
    EVP_PKEY *key = NULL;
    struct crl_ctx c = { 0 };
    ASN1_TIME *tu = NULL, *nu = NULL;
    ASN1_INTEGER *num = NULL;
    X509V3_CTX ctx;
    X509_EXTENSION *aki = NULL;
    unsigned char *out = NULL;
    long last = 0;
    int rc = -1, r, n;

    r = pki_store_get(p, serial, &ca, err);
    if (r != 0) {
        if (r > 0)
            err_set(err, "pki: no CSCA %s", serial);
        goto out;
    }
    if (pki_row_key(p, &ca, &key, err) != 0 ||
        pki_store_crl_last(p, ca.serial, &last, NULL, NULL, err) < 0)
        goto out;
    /* Doc 9303-12 §7.1.4: CRL v2, issued by the CSCA, thisUpdate, nextUpdate,
     * authorityKeyIdentifier, cRLNumber; no delta CRLs */
    c.crl = X509_CRL_new();
    if (c.crl == NULL || X509_CRL_set_version(c.crl, X509_CRL_VERSION_2) != 1 ||
        X509_CRL_set_issuer_name(c.crl, X509_get_subject_name(ca.cert)) != 1 ||
        (tu = ASN1_TIME_set(NULL, now)) == NULL ||
        (nu = ASN1_TIME_set(NULL, now + (time_t)days * DAY)) == NULL ||
        X509_CRL_set1_lastUpdate(c.crl, tu) != 1 || X509_CRL_set1_nextUpdate(c.crl, nu) != 1 ||
        (num = ASN1_INTEGER_new()) == NULL || ASN1_INTEGER_set(num, last + 1) != 1 ||
        X509_CRL_add1_ext_i2d(c.crl, NID_crl_number, num, 0, 0) != 1) {
        pki_ossl_err(err, "pki: building the CRL failed");
        goto out;
    }
    X509V3_set_ctx(&ctx, ca.cert, NULL, NULL, c.crl, 0);
    if ((aki = X509V3_EXT_nconf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always")) ==
            NULL ||
        X509_CRL_add_ext(c.crl, aki, -1) != 1) {
        pki_ossl_err(err, "pki: CRL authority key identifier failed");
        goto out;
    }
    if (pki_store_revoked(p, ca.serial, crl_add, &c, err) != 0)
        goto out;
    if (X509_CRL_sort(c.crl) != 1 || X509_CRL_sign(c.crl, key, EVP_sha256()) <= 0) {
        pki_ossl_err(err, "pki: signing the CRL failed");
        goto out;
    }
    if (pki_store_crl_insert(p, ca.serial, last + 1, c.crl, err) != 0)
        goto out;
    n = i2d_X509_CRL(c.crl, &out);
    if (n <= 0) {
        pki_ossl_err(err, "pki: encoding the CRL failed");
        goto out;
    }
    {
        char hex[65], id[PKI_SERIAL_MAX + 24];
        char tu_s[TIME_ISO8601_LEN + 1] = "", nu_s[TIME_ISO8601_LEN + 1] = "";
        json_t *objs = json_array();
        time_t t;
        /* version 2: the row's times, as pki_store_crl_insert read them */
        if (pki_asn1_time(X509_CRL_get0_lastUpdate(c.crl), &t) == 0)
            (void)time_iso8601(t, tu_s);
        if (pki_asn1_time(X509_CRL_get0_nextUpdate(c.crl), &t) == 0)
            (void)time_iso8601(t, nu_s);
        der_hash_hex(out, (size_t)n, hex);
        if (snprintf(id, sizeof id, "%s/%ld", ca.serial, last + 1) >= (int)sizeof id) {
            json_decref(objs);
            err_set(err, "pki: CRL id too long");
            goto out;
        }
        objs_add(&objs, json_pack("{s:s, s:s, s:s}", "kind", "crl", "id", id, "hash", hex));
        objs_add(&objs, pki_cert_object("certificate", ca.cert));
        if (pki_emit(p, "pki.crl.issue", objs,
                     json_pack("{s:I, s:i, s:s, s:s}", "crl_number", (json_int_t)(last + 1),
                               "days", days, "this_update", tu_s, "next_update", nu_s),
                     err) != 0)
            goto out;
    }
    if (der && buf_append(der, out, (size_t)n) != 0) {
        err_set(err, "pki: encoding the CRL failed");
        goto out;
    }
    rc = 0;
out:
    OPENSSL_free(out);
    X509_EXTENSION_free(aki);
    ASN1_INTEGER_free(num);
    ASN1_TIME_free(tu);
    ASN1_TIME_free(nu);
    X509_CRL_free(c.crl);
    EVP_PKEY_free(key);
    pki_row_release(&ca);
    return rc;
}

int pki_crl_issue(struct pki *p, int days, time_t now, struct buf *der, struct err *err)
{
    char serials[PKI_MAX_CSCA][PKI_SERIAL_MAX];
    size_t n = 0, issued = 0;
    int rc = -1;

    if (days < 1 || days > 365)
        return err_set(err, "pki: CRL validity of %d days is out of range (1 to 365)", days);
    if (tx_begin(p, err) != 0)
        return -1;
    if (pki_store_csca_serials(p, now, serials, PKI_MAX_CSCA, &n, err) != 0)
        goto out;
    if (n == 0) {
        err_set(err, "pki: no CSCA yet (run `civreg pki init`)");
        goto out;
    }
    /* Doc 9303-12 §7.1.4: every CSCA whose certificates may still be met
     * publishes CRLs, a retired one too (what it issued is still out there) */
    for (size_t i = 0; i < n; i++) {
        if (crl_issue_one(p, serials[i], days, now, i == 0 ? der : NULL, err) != 0)
            goto out;
        issued++;
    }
    rc = issued ? 0 : -1;
out:
    return tx_end(p, rc, err);
}

int pki_list(struct pki *p, json_t **out, struct err *err)
{
    json_t *arr = json_array();

    *out = NULL;
    if (arr == NULL)
        return err_set(err, "pki: out of memory");
    if (pki_store_list(p, arr, err) != 0) {
        json_decref(arr);
        return -1;
    }
    *out = arr;
    return 0;
}

static int append_pem(struct buf *out, const char *label, const unsigned char *der, size_t len,
                      struct err *err)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *mem = NULL;
    long n;
    int ok;

    ok = b && PEM_write_bio(b, label, "", der, (long)len) > 0;
    if (ok) {
        n = BIO_get_mem_data(b, &mem);
        ok = n > 0 && buf_append(out, mem, (size_t)n) == 0;
    }
    BIO_free(b);
    if (!ok)
        return pki_ossl_err(err, "pki: writing PEM failed");
    return 0;
}

static int cert_der_cmp(const void *a, const void *b)
{
    const struct buf *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->data, y->data, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Doc 9303-12 §9: CscaMasterList ::= SEQUENCE { version INTEGER (v0),
 * certList SET OF Certificate }, signed as CMS SignedData with eContentType
 * id-icao-cscaMasterList, by a signer holding the master list signer EKU */
static int masterlist(struct pki *p, time_t now, struct buf *out, struct err *err)
{
    STACK_OF(X509) *certs = sk_X509_new_null();
    struct buf content = BUF_INIT(LDS_CAP), *ders = NULL;
    X509 *mls = NULL;
    EVP_PKEY *mls_key = NULL;
    CMS_ContentInfo *cms = NULL;
    ASN1_OBJECT *ctype = NULL;
    BIO *in = NULL, *mem = NULL;
    char *bytes = NULL;
    long n;
    int rc = -1, count;
    size_t set_from;

    if (certs == NULL ||
        pki_store_certs(p, (1u << PKI_KIND_CSCA) | (1u << PKI_KIND_LINK), certs, err) != 0)
        goto out;
    count = sk_X509_num(certs);
    if (count == 0) {
        err_set(err, "pki: no CSCA yet (run `civreg pki init`)");
        goto out;
    }
    ders = calloc((size_t)count, sizeof *ders);
    if (ders == NULL) {
        err_set(err, "pki: out of memory");
        goto out;
    }
    for (int i = 0; i < count; i++) {
        unsigned char *d = NULL;
        int l = i2d_X509(sk_X509_value(certs, i), &d);
        ders[i].max = LDS_CAP;
        if (l <= 0 || buf_append(&ders[i], d, (size_t)l) != 0) {
            OPENSSL_free(d);
            err_set(err, "pki: encoding a certificate failed");
            goto out;
        }
        OPENSSL_free(d);
    }
    qsort(ders, (size_t)count, sizeof *ders, cert_der_cmp);
    if (tlv_put_uint(&content, 0, err) != 0)
        goto out;
    set_from = content.len;
    for (int i = 0; i < count; i++)
        if (buf_append(&content, ders[i].data, ders[i].len) != 0) {
            err_set(err, "pki: master list too large");
            goto out;
        }
    if (tlv_wrap(&content, set_from, 0x31, err) != 0 || tlv_wrap(&content, 0, 0x30, err) != 0)
        goto out;

    /* the signer must come from the current CSCA (after a rollover, the one
     * the old CSCA issued is replaced) */
    if (pki_signer_load(p, PKI_KIND_MLS, NULL, now, &mls, &mls_key, err) == 0) {
        struct pki_row cur = { 0 };
        bool stale = pki_store_current(p, PKI_KIND_CSCA, 0, &cur, err) != 0 ||
                     X509_check_issued(cur.cert, mls) != X509_V_OK;
        pki_row_release(&cur);
        if (stale) {
            X509_free(mls);
            EVP_PKEY_free(mls_key);
            mls = NULL;
            mls_key = NULL;
        }
    }
    if (mls == NULL) {
        struct pki_issue_opts o = { .kind = PKI_KIND_MLS, .now = now, .pkup_days = 365 };
        char serial[PKI_SERIAL_MAX];
        struct pki_row ca = { 0 };
        if (pki_store_current(p, PKI_KIND_CSCA, 0, &ca, err) != 0)
            goto out;
        {
            const char *a = alg_of_key(X509_get0_pubkey(ca.cert));
            if (pki_alg_parse(a, &o.alg, err) != 0) {
                pki_row_release(&ca);
                goto out;
            }
        }
        pki_row_release(&ca);
        err_clear(err);
        if (pki_issue(p, &o, serial, err) != 0 ||
            pki_signer_load(p, PKI_KIND_MLS, serial, now, &mls, &mls_key, err) != 0)
            goto out;
    }
    ctype = OBJ_txt2obj(OID_MASTERLIST, 1);
    in = BIO_new_mem_buf(content.data, (int)content.len);
    cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP);
    if (ctype == NULL || in == NULL || cms == NULL || CMS_set1_eContentType(cms, ctype) != 1 ||
        CMS_add1_signer(cms, mls, mls_key, EVP_sha256(), CMS_BINARY | CMS_NOSMIMECAP |
                                                               CMS_PARTIAL) == NULL) {
        pki_ossl_err(err, "pki: building the master list failed");
        goto out;
    }
    /* the CSCA that issued the signer travels with it, as in published lists */
    {
        struct pki_row ca = { 0 };
        if (pki_store_current(p, PKI_KIND_CSCA, 0, &ca, err) == 0) {
            int ok = CMS_add1_cert(cms, ca.cert) == 1;
            pki_row_release(&ca);
            if (!ok) {
                pki_ossl_err(err, "pki: adding the CSCA to the master list failed");
                goto out;
            }
        }
    }
    if (CMS_final(cms, in, NULL, CMS_BINARY) != 1 || (mem = BIO_new(BIO_s_mem())) == NULL ||
        i2d_CMS_bio(mem, cms) != 1) {
        pki_ossl_err(err, "pki: signing the master list failed");
        goto out;
    }
    n = BIO_get_mem_data(mem, &bytes);
    if (n <= 0 || buf_append(out, bytes, (size_t)n) != 0) {
        err_set(err, "pki: master list too large");
        goto out;
    }
    rc = 0;
out:
    for (int i = 0; ders && i < count; i++)
        buf_release(&ders[i]);
    free(ders);
    sk_X509_pop_free(certs, X509_free);
    buf_release(&content);
    X509_free(mls);
    EVP_PKEY_free(mls_key);
    CMS_ContentInfo_free(cms);
    ASN1_OBJECT_free(ctype);
    BIO_free(in);
    BIO_free(mem);
    return rc;
}

int pki_export(struct pki *p, enum pki_export_what what, bool der, time_t now, struct buf *out,
               struct err *err)
{
    STACK_OF(X509) *certs = NULL;
    struct pki_row row = { 0 };
    unsigned char *d = NULL;
    size_t dl = 0;
    int rc = -1, r;

    switch (what) {
    case PKI_EXPORT_CSCA:
    case PKI_EXPORT_DS:
        certs = sk_X509_new_null();
        if (certs == NULL) {
            err_set(err, "pki: out of memory");
            goto out;
        }
        if (what == PKI_EXPORT_CSCA) {
            if (pki_store_certs(p, (1u << PKI_KIND_CSCA) | (1u << PKI_KIND_LINK), certs, err) != 0)
                goto out;
        } else {
            r = pki_store_current(p, PKI_KIND_DS, now, &row, err);
            if (r != 0) {
                if (r > 0)
                    err_set(err, "pki: no active document signer (run `civreg pki issue-ds`)");
                goto out;
            }
            if (sk_X509_push(certs, row.cert) <= 0) {
                err_set(err, "pki: out of memory");
                goto out;
            }
            row.cert = NULL;
        }
        if (sk_X509_num(certs) == 0) {
            err_set(err, "pki: no CSCA yet (run `civreg pki init`)");
            goto out;
        }
        for (int i = 0; i < sk_X509_num(certs); i++) {
            int l = i2d_X509(sk_X509_value(certs, i), &d);
            if (l <= 0) {
                pki_ossl_err(err, "pki: encoding a certificate failed");
                goto out;
            }
            if (der ? buf_append(out, d, (size_t)l) != 0
                    : append_pem(out, "CERTIFICATE", d, (size_t)l, err) != 0) {
                err_set(err, "pki: export too large");
                goto out;
            }
            OPENSSL_free(d);
            d = NULL;
            if (der) /* DER holds one object: the current CSCA comes first */
                break;
        }
        break;
    case PKI_EXPORT_CRL: {
        /* the newest CRL of every CSCA still in use, current CSCA first;
         * DER holds one object: the current CSCA's */
        char serials[PKI_MAX_CSCA][PKI_SERIAL_MAX];
        size_t n = 0, found = 0;
        if (pki_store_csca_serials(p, now, serials, PKI_MAX_CSCA, &n, err) != 0)
            goto out;
        for (size_t i = 0; i < n && (!der || found == 0); i++) {
            unsigned char *crl = NULL;
            long num = 0;
            r = pki_store_crl_last(p, serials[i], &num, &crl, &dl, err);
            if (r < 0)
                goto out;
            if (r > 0 || crl == NULL)
                continue;
            r = der ? buf_append(out, crl, dl) : append_pem(out, "X509 CRL", crl, dl, err);
            free(crl);
            if (r != 0) {
                err_set(err, "pki: export too large");
                goto out;
            }
            found++;
        }
        if (found == 0) {
            err_set(err, "pki: no CRL yet (run `civreg pki crl`)");
            goto out;
        }
        break;
    }
    case PKI_EXPORT_MASTERLIST: {
        struct buf ml = BUF_INIT(LDS_CAP);
        if (masterlist(p, now, &ml, err) != 0)
            goto out;
        if (der ? buf_append(out, ml.data, ml.len) != 0
                : append_pem(out, "CMS", ml.data, ml.len, err) != 0) {
            buf_release(&ml);
            err_set(err, "pki: export too large");
            goto out;
        }
        buf_release(&ml);
        break;
    }
    }
    rc = 0;
out:
    OPENSSL_free(d);
    sk_X509_pop_free(certs, X509_free);
    pki_row_release(&row);
    return rc;
}

int pki_barcode_sign(struct pki *p, const void *msg, size_t len, time_t now,
                     unsigned char sig[64], struct buf *cert_der, struct err *err)
{
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    EVP_MD_CTX *md = NULL;
    ECDSA_SIG *es = NULL;
    unsigned char der[80], *cder = NULL;
    const unsigned char *q;
    const BIGNUM *r, *s;
    char group[64] = "";
    size_t der_len = sizeof der, glen = 0;
    int clen, rc = -1;

    if (pki_signer_load(p, PKI_KIND_BARCODE, NULL, now, &cert, &key, err) != 0)
        return -1;
    if (!EVP_PKEY_is_a(key, "EC") ||
        EVP_PKEY_get_group_name(key, group, sizeof group, &glen) != 1 ||
        strcmp(group, "prime256v1") != 0) {
        err_set(err, "pki: the barcode signer's key is not ECDSA P-256; VDS-NC seals need "
                     "ES256 (run `civreg pki issue-barcode-signer --algorithm ecdsa-p256`)");
        goto out;
    }
    if ((md = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) != 1 ||
        EVP_DigestSign(md, der, &der_len, msg, len) != 1) {
        pki_ossl_err(err, "pki: signing the seal failed");
        goto out;
    }
    q = der;
    if ((es = d2i_ECDSA_SIG(NULL, &q, (long)der_len)) == NULL) {
        pki_ossl_err(err, "pki: decoding the seal signature failed");
        goto out;
    }
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32) {
        err_set(err, "pki: seal signature out of range");
        goto out;
    }
    if ((clen = i2d_X509(cert, &cder)) <= 0) {
        pki_ossl_err(err, "pki: encoding the barcode signer certificate failed");
        goto out;
    }
    if (buf_append(cert_der, cder, (size_t)clen) != 0) {
        err_set(err, "pki: certificate too large");
        goto out;
    }
    rc = 0;
out:
    OPENSSL_free(cder);
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    X509_free(cert);
    return rc;
}
