/* PKI tables (db/migrations/0003_pki.sql): certificates, sealed keys, CRLs. */
#include <openssl/x509.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeutil.h"
#include "db/rows.h"
#include "db/sql.h"
#include "pki_int.h"

#define KEY_AD_MAX 96

static void key_ad(const char *serial, char ad[KEY_AD_MAX])
{
    /* 15 + at most PKI_SERIAL_MAX - 1 (47) characters: fits in KEY_AD_MAX */
    (void)snprintf(ad, KEY_AD_MAX, "civreg-pki-key:%s", serial);
}

static int kind_parse(const char *s, enum pki_kind *k)
{
    static const enum pki_kind all[] = { PKI_KIND_CSCA, PKI_KIND_LINK, PKI_KIND_DS,
                                         PKI_KIND_BARCODE, PKI_KIND_MLS };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, pki_kind_name(all[i])) == 0) {
            *k = all[i];
            return 0;
        }
    return -1;
}

static int iso(time_t t, char out[TIME_ISO8601_LEN + 1])
{
    return time_iso8601(t, out);
}

void pki_row_release(struct pki_row *r)
{
    if (r == NULL)
        return;
    X509_free(r->cert);
    free(r->key_sealed);
    memset(r, 0, sizeof *r);
}

int pki_store_insert(struct pki *p, enum pki_kind kind, const char *issuer_serial, X509 *cert,
                     const char *alg, EVP_PKEY *key, time_t now, struct err *err)
{
    char serial[PKI_SERIAL_MAX], nb[TIME_ISO8601_LEN + 1], na[TIME_ISO8601_LEN + 1],
        pnb[TIME_ISO8601_LEN + 1], pna[TIME_ISO8601_LEN + 1], created[TIME_ISO8601_LEN + 1],
        ad[KEY_AD_MAX];
    char *subject = NULL;
    unsigned char *der = NULL, *p8der = NULL;
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    struct buf sealed = BUF_INIT(64 * 1024);
    time_t t_nb, t_na, k_nb = 0, k_na = 0;
    int derlen, p8len = 0, rc = -1, has_pkup;
    BIO *b = BIO_new(BIO_s_mem());

    if (pki_cert_serial(cert, serial, err) != 0)
        goto out;
    if (pki_asn1_time(X509_get0_notBefore(cert), &t_nb) != 0 ||
        pki_asn1_time(X509_get0_notAfter(cert), &t_na) != 0 || iso(t_nb, nb) != 0 ||
        iso(t_na, na) != 0 || iso(now, created) != 0) {
        err_set(err, "pki: certificate validity unreadable");
        goto out;
    }
    has_pkup = pki_cert_pkup(cert, &k_nb, &k_na) == 0;
    if (has_pkup && (iso(k_nb, pnb) != 0 || iso(k_na, pna) != 0)) {
        err_set(err, "pki: private key usage period unreadable");
        goto out;
    }
    if (b == NULL ||
        X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0 ||
        BIO_write(b, "", 1) != 1) {
        pki_ossl_err(err, "pki: printing the subject failed");
        goto out;
    }
    BIO_get_mem_data(b, &subject);
    derlen = i2d_X509(cert, &der);
    if (derlen <= 0) {
        pki_ossl_err(err, "pki: encoding the certificate failed");
        goto out;
    }
    if (key) {
        if ((p8 = EVP_PKEY2PKCS8(key)) == NULL ||
            (p8len = i2d_PKCS8_PRIV_KEY_INFO(p8, &p8der)) <= 0) {
            pki_ossl_err(err, "pki: encoding the private key failed");
            goto out;
        }
        key_ad(serial, ad);
        if (pki_key_ready(p, err) != 0 ||
            seal_encrypt(p->key, p8der, (size_t)p8len, ad, &sealed, err) != 0)
            goto out;
    }
    if (db_run(p->db,
               "INSERT INTO pki_certs(serial, kind, issuer_serial, subject, algorithm, "
               "not_before, not_after, pkup_not_before, pkup_not_after, cert_der, "
               "key_sealed, status, created_at) "
               "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,'active',?12)",
               "storing a certificate", err, "sssssssssbbs", serial, pki_kind_name(kind),
               issuer_serial, subject, alg, nb, na, has_pkup ? pnb : NULL,
               has_pkup ? pna : NULL, der, (size_t)derlen, key ? sealed.data : NULL,
               sealed.len, created) != 0)
        goto out;
    rc = 0;
out:
    OPENSSL_free(der);
    if (p8der)
        OPENSSL_clear_free(p8der, (size_t)p8len);
    PKCS8_PRIV_KEY_INFO_free(p8);
    buf_release(&sealed);
    BIO_free(b);
    return rc;
}

/* ROW_COLUMNS of ST's current row into R. When the row's serial is KNOWN
 * (non-NULL: a certificate the caller already holds, parsed), the
 * certificate and the sealed key are not read: R->cert stays NULL. */
static int read_row(sqlite3_stmt *st, const char *known, struct pki_row *r, struct err *err)
{
    const unsigned char *der = sqlite3_column_blob(st, 4);
    int derlen = sqlite3_column_bytes(st, 4);
    const char *s;

    memset(r, 0, sizeof *r);
    s = (const char *)sqlite3_column_text(st, 0);
    if (s == NULL || strlen(s) >= PKI_SERIAL_MAX)
        return err_set(err, "pki: corrupt serial in pki_certs");
    memcpy(r->serial, s, strlen(s) + 1);
    s = (const char *)sqlite3_column_text(st, 1);
    if (s == NULL || kind_parse(s, &r->kind) != 0)
        return err_set(err, "pki: certificate %s has an unknown kind", r->serial);
    s = (const char *)sqlite3_column_text(st, 2);
    if (s && strlen(s) < PKI_SERIAL_MAX)
        memcpy(r->issuer_serial, s, strlen(s) + 1);
    s = (const char *)sqlite3_column_text(st, 3);
    /* the column's CHECK allows active, retired, revoked only: fits */
    (void)snprintf(r->status, sizeof r->status, "%s", s ? s : "");
    if (known != NULL && strcmp(known, r->serial) == 0)
        return 0;
    if (der == NULL || (r->cert = d2i_X509(NULL, &der, derlen)) == NULL)
        return pki_ossl_err(err, "pki: certificate %s in the database is unreadable", r->serial);
    if (sqlite3_column_type(st, 5) == SQLITE_BLOB) {
        size_t n = (size_t)sqlite3_column_bytes(st, 5);
        r->key_sealed = malloc(n ? n : 1);
        if (r->key_sealed == NULL) {
            pki_row_release(r);
            return err_set(err, "pki: out of memory");
        }
        memcpy(r->key_sealed, sqlite3_column_blob(st, 5), n);
        r->key_sealed_len = n;
    }
    return 0;
}

#define ROW_COLUMNS "serial, kind, issuer_serial, status, cert_der, key_sealed"

/* A one-row lookup of ROW_COLUMNS on the connection's cached statement for
 * SQL, FMT's parameters bound (db_bind): 0 with OUT filled (read_row with
 * KNOWN), 1 when there is no such row, -1 with ERR set. */
static int lookup_row(struct pki *p, const char *known, struct pki_row *out, struct err *err,
                      const char *sql, const char *what, const char *fmt, ...)
{
    sqlite3_stmt *st = NULL;
    va_list ap;
    int rc;

    memset(out, 0, sizeof *out);
    if (db_stmt_cached(p->db, sql, &st, err) != 0)
        return -1;
    va_start(ap, fmt);
    rc = db_bindv(p->db, st, err, fmt, ap);
    va_end(ap);
    if (rc == 0) {
        rc = db_step_row(p->db, st, what, err);
        rc = rc == 1 ? read_row(st, known, out, err) : rc == 0 ? 1 : -1;
    }
    db_stmt_release(p->db, st);
    return rc;
}

int pki_store_signer_row(struct pki *p, enum pki_kind kind, const char *serial, time_t at,
                         const char *known, struct pki_row *out, struct err *err)
{
    char when[TIME_ISO8601_LEN + 1] = "";

    if (serial != NULL)
        return lookup_row(p, known, out, err,
                          "SELECT " ROW_COLUMNS " FROM pki_certs WHERE serial = upper(?1)",
                          "reading a certificate", "s", serial);
    if (at && iso(at, when) != 0)
        return err_set(err, "pki: time out of range");
    return lookup_row(p, known, out, err,
                      "SELECT " ROW_COLUMNS " FROM pki_certs WHERE kind = ?1 AND "
                      "status = 'active' AND (?2 = '' OR (pkup_not_before <= ?2 AND "
                      "pkup_not_after >= ?2)) ORDER BY created_at DESC, rowid DESC LIMIT 1",
                      "reading certificates", "ss", pki_kind_name(kind), when);
}

int pki_store_current(struct pki *p, enum pki_kind kind, time_t at, struct pki_row *out,
                      struct err *err)
{
    return pki_store_signer_row(p, kind, NULL, at, NULL, out, err);
}

int pki_store_get(struct pki *p, const char *serial, struct pki_row *out, struct err *err)
{
    return pki_store_signer_row(p, PKI_KIND_DS, serial, 0, NULL, out, err);
}

int pki_store_set_status(struct pki *p, const char *serial, const char *status,
                         const char *reason, time_t now, struct err *err)
{
    char when[TIME_ISO8601_LEN + 1];

    if (iso(now, when) != 0)
        return err_set(err, "pki: time out of range");
    if (db_run(p->db,
               "UPDATE pki_certs SET status = ?2, "
               "revoked_at = CASE WHEN ?2 = 'revoked' THEN ?3 ELSE revoked_at END, "
               "revocation_reason = CASE WHEN ?2 = 'revoked' THEN ?4 ELSE "
               "revocation_reason END WHERE serial = ?1",
               "updating a certificate", err, "ssss", serial, status, when, reason) != 0)
        return -1;
    if (db_rows_changed(p->db) != 1)
        return err_set(err, "pki: no certificate with serial %s", serial);
    return 0;
}

int pki_store_revoked(struct pki *p, const char *issuer,
                      int (*fn)(void *ctx, const char *serial, const char *revoked_at,
                                const char *reason, struct err *err),
                      void *ctx, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int s;

    s = db_query_row(p->db, &st,
                     "SELECT serial, revoked_at, revocation_reason FROM pki_certs "
                     "WHERE issuer_serial = ?1 AND status = 'revoked' ORDER BY serial",
                     "reading revocations", err, "s", issuer);
    while (s == 1) {
        if (fn(ctx, (const char *)sqlite3_column_text(st, 0),
               (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
               err) != 0) {
            s = -1;
            break;
        }
        s = db_step_row(p->db, st, "reading revocations", err);
    }
    sqlite3_finalize(st);
    return s;
}

int pki_store_crl_last(struct pki *p, const char *csca, long *number, unsigned char **der,
                       size_t *len, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = -1, s;

    *number = 0;
    if (der)
        *der = NULL;
    s = db_query_row(p->db, &st,
                     "SELECT number, crl_der FROM pki_crls WHERE csca_serial = ?1 "
                     "ORDER BY number DESC LIMIT 1",
                     "reading CRLs", err, "s", csca);
    if (s == 1) {
        *number = (long)sqlite3_column_int64(st, 0);
        rc = 0;
        if (der) {
            size_t n = (size_t)sqlite3_column_bytes(st, 1);
            *der = malloc(n ? n : 1);
            if (*der == NULL)
                rc = err_set(err, "pki: out of memory");
            else {
                memcpy(*der, sqlite3_column_blob(st, 1), n);
                *len = n;
            }
        }
    } else if (s == 0) {
        rc = 1;
    }
    sqlite3_finalize(st);
    return rc;
}

int pki_store_crl_insert(struct pki *p, const char *csca, long number, X509_CRL *crl,
                         struct err *err)
{
    unsigned char *der = NULL;
    char tu[TIME_ISO8601_LEN + 1], nu[TIME_ISO8601_LEN + 1];
    time_t a, b;
    int n, rc;

    if (pki_asn1_time(X509_CRL_get0_lastUpdate(crl), &a) != 0 ||
        pki_asn1_time(X509_CRL_get0_nextUpdate(crl), &b) != 0 || iso(a, tu) != 0 ||
        iso(b, nu) != 0)
        return err_set(err, "pki: CRL times unreadable");
    n = i2d_X509_CRL(crl, &der);
    if (n <= 0)
        return pki_ossl_err(err, "pki: encoding the CRL failed");
    rc = db_run(p->db,
                "INSERT INTO pki_crls(csca_serial, number, this_update, next_update, "
                "crl_der) VALUES (?1,?2,?3,?4,?5)",
                "storing the CRL", err, "sIssb", csca, (long long)number, tu, nu, der,
                (size_t)n);
    OPENSSL_free(der);
    return rc;
}

int pki_trust_generation(struct db *db, char out[PKI_TRUST_GEN_MAX], struct err *err)
{
    char *gen = NULL;
    int rc;

    /* rows are only ever added (status changes mark rollover and revocation):
     * their number, the newest rowid and the current CSCA's rowid say when
     * the trust anchors changed */
    rc = db_query_text(db,
                       "SELECT count(*) || ':' || coalesce(max(rowid), 0) || ':' ||"
                       " coalesce(max(CASE WHEN kind = 'csca' AND status = 'active'"
                       " THEN rowid END), 0)"
                       " FROM pki_certs WHERE kind IN ('csca', 'link')",
                       "reading certificates", &gen, err, "");
    if (rc == 0)
        rc = db_sql_fail(db, "reading certificates", err); /* an aggregate has its row */
    else if (rc == 1 && (gen == NULL || strlen(gen) >= PKI_TRUST_GEN_MAX))
        rc = err_set(err, "pki: generation too long"); /* three 64-bit numbers fit in 80 bytes */
    else if (rc == 1) {
        memcpy(out, gen, strlen(gen) + 1);
        rc = 0;
    }
    free(gen);
    return rc;
}

int pki_store_certs(struct pki *p, unsigned kinds, STACK_OF(X509) *out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, s;

    /* the current CSCA first, then older ones and link certificates */
    if (db_prepare(p->db, &st,
                   "SELECT kind, cert_der FROM pki_certs ORDER BY "
                   "(kind = 'csca' AND status = 'active') DESC, created_at DESC, "
                   "rowid DESC", err) != 0)
        return -1;
    while ((s = db_step_row(p->db, st, "reading certificates", err)) == 1) {
        enum pki_kind k;
        const unsigned char *der = sqlite3_column_blob(st, 1);
        X509 *x;
        if (kind_parse((const char *)sqlite3_column_text(st, 0), &k) != 0 || !(kinds & (1u << k)))
            continue;
        x = der ? d2i_X509(NULL, &der, sqlite3_column_bytes(st, 1)) : NULL;
        if (x == NULL || sk_X509_push(out, x) <= 0) {
            X509_free(x);
            rc = pki_ossl_err(err, "pki: a stored certificate is unreadable");
            break;
        }
    }
    if (rc == 0 && s != 0)
        rc = -1;
    sqlite3_finalize(st);
    return rc;
}

/* A certificate row as an object keyed by the column names, its NULL
 * columns left out. */
static json_t *cert_row(sqlite3_stmt *st, void *ctx)
{
    json_t *o = json_object();

    (void)ctx;
    for (int i = 0; o && i < sqlite3_column_count(st); i++)
        if (sqlite3_column_type(st, i) != SQLITE_NULL &&
            json_object_set_new(o, sqlite3_column_name(st, i), db_column_json(st, i)) != 0) {
            json_decref(o);
            o = NULL;
        }
    return o;
}

int pki_store_list(struct pki *p, json_t *arr, struct err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *rows = NULL;
    int rc = -1;

    if (db_prepare(p->db, &st,
                   "SELECT serial, kind, issuer_serial, subject, algorithm, not_before, "
                   "not_after, pkup_not_before, pkup_not_after, status, revoked_at, "
                   "revocation_reason FROM pki_certs ORDER BY created_at, rowid", err) == 0 &&
        db_rows_json(p->db, st, "listing certificates", cert_row, NULL, &rows, err) == 0)
        rc = json_array_extend(arr, rows) == 0 ? 0 : err_set(err, "pki: out of memory");
    sqlite3_finalize(st);
    json_decref(rows);
    return rc;
}

int pki_row_key(struct pki *p, const struct pki_row *row, EVP_PKEY **key, struct err *err)
{
    unsigned char *plain = NULL;
    size_t plen = 0;
    char ad[KEY_AD_MAX];
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    const unsigned char *q;

    *key = NULL;
    if (row->key_sealed == NULL)
        return err_set(err, "pki: certificate %s has no private key here", row->serial);
    key_ad(row->serial, ad);
    if (pki_key_ready(p, err) != 0)
        return -1;
    if (seal_decrypt(p->key, row->key_sealed, row->key_sealed_len, ad, &plain, &plen, err) != 0)
        return err_prefix(err, "pki: private key of %s", row->serial);
    q = plain;
    p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &q, (long)plen);
    if (p8)
        *key = EVP_PKCS82PKEY(p8);
    PKCS8_PRIV_KEY_INFO_free(p8);
    seal_free(plain, plen);
    if (*key == NULL)
        return pki_ossl_err(err, "pki: private key of %s is unreadable", row->serial);
    /* the key must match the certificate it was stored with */
    if (EVP_PKEY_eq(*key, X509_get0_pubkey(row->cert)) != 1) {
        EVP_PKEY_free(*key);
        *key = NULL;
        return err_set(err, "pki: private key of %s does not match its certificate", row->serial);
    }
    return 0;
}

int pki_store_csca_serials(struct pki *p, time_t now, char (*out)[PKI_SERIAL_MAX], size_t max,
                           size_t *n, struct err *err)
{
    sqlite3_stmt *st = NULL;
    char when[TIME_ISO8601_LEN + 1];
    int s;

    *n = 0;
    if (iso(now, when) != 0)
        return err_set(err, "pki: time out of range");
    s = db_query_row(p->db, &st,
                     "SELECT serial FROM pki_certs WHERE kind = 'csca' AND not_after >= ?1 "
                     "ORDER BY status = 'active' DESC, created_at DESC, rowid DESC",
                     "reading CSCAs", err, "s", when);
    for (; s == 1 && *n < max; s = db_step_row(p->db, st, "reading CSCAs", err)) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (v == NULL || strlen(v) >= PKI_SERIAL_MAX)
            continue;
        memcpy(out[*n], v, strlen(v) + 1);
        (*n)++;
    }
    sqlite3_finalize(st);
    return s < 0 ? -1 : 0;
}
