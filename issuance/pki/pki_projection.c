/* civreg issuance: the ICAO PKI's tables (pki_certs, pki_crls) as a
 * projection of the signed log (registry/projection.h).
 *
 * Each certificate and CRL event names its object by the SHA-256 of the
 * DER: the stored DER is checked against that hash, and the columns read
 * from the certificate (subject, private key usage period) are rebuilt
 * from a DER that matches. The rest comes from the event's data; since
 * version 2 it carries the rows' times too (created_at, revoked_at, a CRL's
 * thisUpdate and nextUpdate), which version-1 events leave unknown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>

#include "core/encode.h"
#include "core/timeutil.h"
#include "pki_int.h"
#include "registry/projection.h"

static json_t *logged(const json_t *data, const char *key)
{
    const json_t *v = json_object_get(data, key);
    return json_is_string(v) ? json_incref((json_t *)v) : proj_unknown();
}

/* Until the stored DER is checked against it (after the replay), a DER
 * column holds the logged hash as text: a value no stored BLOB equals, so
 * a DER that does not match is reported with the hash the log signed. */
static json_t *der_marker(const char *hash)
{
    char s[80];

    (void)snprintf(s, sizeof s, "sha256:%.64s", hash); /* 71 characters at most */
    return json_string(s);
}

/* Remember HASH under ID in this audit's list LIST (certs or crls), for
 * the pass after the replay. */
static void remember(struct proj *p, const char *list, const char *id, json_t *what)
{
    json_t *st = proj_state(p, "pki"), *l = json_object_get(st, list);

    if (st && l == NULL && json_object_set_new(st, list, json_object()) == 0)
        l = json_object_get(st, list);
    if (l == NULL || json_object_set_new(l, id, what) != 0)
        proj_problem(p, "audit: out of memory rebuilding the PKI");
}

/* pki.csca.create, pki.link.create, pki.{ds,barcode,mls}.issue: the
 * certificate is the first object, its issuer (none for a CSCA) the
 * second. A link certificate retires the CSCA it links from. */
static void on_cert(struct proj *p, const struct proj_event *ev)
{
    const json_t *c = proj_object(ev, "certificate", 0), *iss = proj_object(ev, "certificate", 1);
    const char *serial = json_string_value(json_object_get(c, "id"));
    const json_t *d = ev->data;

    if (serial == NULL || !json_is_string(json_object_get(c, "hash"))) {
        proj_names_none(p, ev, "certificate");
        return;
    }
    proj_put_new(p, "pki_certs",
                 json_pack("{s:s, s:o, s:s?, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:n, s:n, "
                           "s:o}",
                           "serial", serial, "kind", logged(d, "certificate_kind"),
                           "issuer_serial", json_string_value(json_object_get(iss, "id")),
                           "subject", proj_unknown(), "algorithm", logged(d, "algorithm"),
                           "not_before", logged(d, "not_before"), "not_after",
                           logged(d, "not_after"), "pkup_not_before", proj_unknown(),
                           "pkup_not_after", proj_unknown(), "cert_der",
                           der_marker(proj_str(c, "hash")), "status", "active", "revoked_at",
                           "revocation_reason", "created_at", logged(d, "created_at")));
    remember(p, "certs", serial, json_string(proj_str(c, "hash")));
    if (strcmp(ev->type, "pki.link.create") == 0 && iss)
        proj_put_new(p, "pki_certs", json_pack("{s:s, s:s}", "serial", proj_str(iss, "id"),
                                               "status", "retired"));
}

static void on_revoke(struct proj *p, const struct proj_event *ev)
{
    const char *serial = proj_object_id(ev, "certificate", 0);

    if (serial == NULL)
        return;
    proj_put_new(p, "pki_certs",
                 json_pack("{s:s, s:s, s:o, s:o}", "serial", serial, "status", "revoked",
                           "revoked_at", logged(ev->data, "revoked_at"), "revocation_reason",
                           logged(ev->data, "reason")));
}

static void on_crl(struct proj *p, const struct proj_event *ev)
{
    const json_t *crl = proj_object(ev, "crl", 0), *num = json_object_get(ev->data, "crl_number");
    const char *csca = proj_object_id(ev, "certificate", 0);

    if (crl == NULL || csca == NULL || !json_is_integer(num)) {
        proj_names_none(p, ev, "CRL");
        return;
    }
    proj_put_new(p, "pki_crls",
                 json_pack("{s:s, s:O, s:o, s:o, s:o}", "csca_serial", csca, "number", num,
                           "this_update", logged(ev->data, "this_update"), "next_update",
                           logged(ev->data, "next_update"), "crl_der",
                           der_marker(proj_str(crl, "hash"))));
    remember(p, "crls", proj_str(crl, "id"),
             json_pack("{s:s, s:O, s:s}", "csca_serial", csca, "number", num, "hash",
                       proj_str(crl, "hash")));
}

/* The stored DER of TABLE's row KEY when it hashes to HASH: its bytes in
 * *DER (malloc'd) and the column value in *VALUE. */
static bool stored_der(struct proj *p, const char *table, const json_t *key, const char *column,
                       const char *hash, unsigned char **der, size_t *len, json_t **value)
{
    json_t *v = proj_stored(p, table, key, column);
    const char *hex = json_string_value(json_object_get(v, "$blob"));
    unsigned char h[32];
    unsigned int hl = 0;
    char hh[65];
    size_t n = hex ? strlen(hex) / 2 : 0, got = 0;

    *der = NULL;
    *value = NULL;
    if (hex == NULL || n == 0 || (*der = malloc(n)) == NULL ||
        hex_decode(hex, strlen(hex), *der, n, &got, NULL) != 0 ||
        EVP_Digest(*der, got, h, &hl, EVP_sha256(), NULL) != 1 || hl != 32) {
        free(*der);
        *der = NULL;
        json_decref(v);
        return false;
    }
    hex_encode(h, sizeof h, hh);
    if (strcmp(hh, hash) != 0) {
        free(*der);
        *der = NULL;
        json_decref(v);
        return false; /* the marker stays: the comparison reports it */
    }
    *len = got;
    *value = v;
    return true;
}

static json_t *iso_or_null(bool have, time_t t)
{
    char s[TIME_ISO8601_LEN + 1];

    return have && time_iso8601(t, s) == 0 ? json_string(s) : json_null();
}

/* The columns pki_store_insert reads from the certificate. */
static void cert_columns(struct proj *p, const char *serial, const unsigned char *der, size_t len,
                         json_t *value)
{
    const unsigned char *q = der;
    X509 *x = d2i_X509(NULL, &q, (long)len);
    BIO *b = BIO_new(BIO_s_mem());
    char *subject = NULL;
    time_t nb = 0, na = 0;
    bool pkup;

    if (x == NULL || b == NULL ||
        X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0 ||
        BIO_write(b, "", 1) != 1) {
        proj_problem(p, "pki_certs %s cert_der: the certificate the log signed cannot be read",
                     serial);
        goto out;
    }
    BIO_get_mem_data(b, &subject);
    pkup = pki_cert_pkup(x, &nb, &na) == 0;
    proj_put_new(p, "pki_certs",
                 json_pack("{s:s, s:O, s:s, s:o, s:o}", "serial", serial, "cert_der", value,
                           "subject", subject, "pkup_not_before", iso_or_null(pkup, nb),
                           "pkup_not_after", iso_or_null(pkup, na)));
out:
    BIO_free(b);
    X509_free(x);
}

static void after_pki(struct proj *p)
{
    json_t *st = proj_state(p, "pki"), *v;
    const char *id;

    json_object_foreach(json_object_get(st, "certs"), id, v) {
        json_t *key = json_pack("{s:s}", "serial", id), *value = NULL;
        unsigned char *der = NULL;
        size_t len = 0;
        if (key && stored_der(p, "pki_certs", key, "cert_der", json_string_value(v), &der, &len,
                              &value))
            cert_columns(p, id, der, len, value);
        free(der);
        json_decref(value);
        json_decref(key);
    }
    json_object_foreach(json_object_get(st, "crls"), id, v) {
        json_t *key = json_pack("{s:s, s:O}", "csca_serial", proj_str(v, "csca_serial"), "number",
                                json_object_get(v, "number")),
               *value = NULL;
        unsigned char *der = NULL;
        size_t len = 0;
        if (key &&
            stored_der(p, "pki_crls", key, "crl_der", proj_str(v, "hash"), &der, &len, &value))
            proj_put_new(p, "pki_crls",
                         json_pack("{s:s, s:O, s:O}", "csca_serial", proj_str(v, "csca_serial"),
                                   "number", json_object_get(v, "number"), "crl_der", value));
        free(der);
        json_decref(value);
        json_decref(key);
    }
}

static const struct proj_handler pki_handlers[] = {
    { "pki.csca.create", on_cert },
    { "pki.link.create", on_cert },
    { "pki.ds.issue", on_cert },
    { "pki.barcode.issue", on_cert },
    { "pki.mls.issue", on_cert },
    { "pki.revoke", on_revoke },
    { "pki.crl.issue", on_crl },
};

static const struct proj_table pki_tables[] = {
    { "pki_certs",
      "serial, kind, issuer_serial, subject, algorithm, not_before, not_after, pkup_not_before, "
      "pkup_not_after, cert_der, status, revoked_at, revocation_reason, created_at",
      "key_sealed: the private key sealed under keys/pki.key, a secret; the log holds the "
      "certificate (its public key) by hash",
      NULL, NULL },
    { "pki_crls", "csca_serial, number, this_update, next_update, crl_der", NULL, NULL, NULL },
};

static const struct proj_module pki_module =
    PROJ_MODULE("pki", pki_tables, pki_handlers, after_pki);

const struct proj_module *pki_projection(void)
{
    return &pki_module;
}
