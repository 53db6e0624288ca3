/* civreg web: the JSON API of the passport office (applications, documents,
 * booklet stock, downloads). Each handler validates the request, calls one
 * issuance function with the session's actor -- the same function the CLI
 * calls, so the same checks run and the same signed events are written --
 * and renders its JSON. Built with the web framework and the registry. */
#if __has_include("session.h")
#include "web_int.h"
#include "passport_routes.h"

#if defined(CIVREG_HAVE_REGISTRY) && defined(CIVREG_HAVE_PASSPORT)

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/encode.h"
#include "core/json.h"
#include "core/log.h"
#include "issuance/passport/passport.h"
#include "issuance/icao/icao.h"
#include "registry/registry.h"

#if __has_include("issuance/pki/pki.h")
#include "issuance/pki/pki.h"
#define WEB_HAVE_PKI 1
#else
#define WEB_HAVE_PKI 0
#endif

#define ID_MAX 128

static struct office_env env_of(struct web_request *rq)
{
    struct office_env env = { rq->w->db, rq->srv->dd->blobs_dir, rq->srv->dd->keys_dir,
                              rq->session->actor, NULL, { 0 } };
    office_env_init(&env);
    return env;
}

/* The office answers -1 with a message naming what failed and a kind
 * (unknown ids, role refusals, state conflicts, storage failures);
 * web_send_failure turns the kind into the status. */
static int office_failure(struct web_request *rq, const struct err *err)
{
    return web_send_failure(rq->conn, err);
}

static const char *opt_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The JSON body into *BODY (owned by the caller) when it has no member
 * besides KEYS. Returns 0, or the status of the answer already sent (422
 * naming the stray member). */
static int office_body(struct web_request *rq, const char *const *keys, json_t **body)
{
    struct err err = ERR_INIT;
    int rc;

    if ((rc = web_read_json(rq->conn, body)) != 0)
        return rc;
    if (json_check_keys(*body, keys, &err) != 0) {
        json_decref(*body);
        *body = NULL;
        return web_send_error(rq->conn, 422, "rejected", err_msg(&err));
    }
    return 0;
}

/* A base64 image member (data: URLs accepted) into *OUT. */
static int image_member(const json_t *body, const char *key, size_t max, unsigned char **out,
                        size_t *len, struct err *err)
{
    const char *s = opt_str(body, key), *comma;

    *out = NULL;
    *len = 0;
    if (s == NULL || *s == '\0')
        return 0;
    if (strncmp(s, "data:", 5) == 0 && (comma = strchr(s, ',')) != NULL)
        s = comma + 1;
    if (b64_decode(s, strlen(s), max, out, len, err) != 0)
        return err_prefix(err, "%s: not base64", key);
    return 0;
}

/* ---- applications --------------------------------------------------------- */

/* A refusal because the holder is recorded as deceased (in this office, or
 * in another district through the national tier) gets its own code, so the
 * screens say it in the user's language; UIN or, else, application ID names
 * the holder. Every other failure as office_failure. */
static int holder_refusal(struct web_request *rq, struct office_env *env, const char *uin,
                          const char *id, const struct err *err)
{
    struct err e2 = ERR_INIT;
    json_t *app = NULL;
    bool dead = false;
    int rc;

    if (err_kind(err) != ERR_CONFLICT)
        return office_failure(rq, err);
    if (uin == NULL && id && office_app_show(env, id, &app, &e2) == 0)
        uin = opt_str(app, "uin");
    if (uin && registry_person_is_deceased(env->db, uin, &dead, NULL, &e2) == 0 && dead)
        rc = web_send_error(rq->conn, 409, "deceased", err_msg(err));
    else
        rc = office_failure(rq, err);
    json_decref(app);
    return rc;
}

int web_api_application_enrol(struct web_request *rq)
{
    static const char *const keys[] = { "uin", "doc_type", "kind", "replaces", "surname",
                                        "given_names", "photo", "signature", "contact", NULL };
    struct office_env env;
    struct office_enrolment e;
    struct office_national national = { 0 };
    struct err err = ERR_INIT;
    json_t *body = NULL, *out = NULL;
    unsigned char *photo = NULL, *sig = NULL;
    size_t photo_len, sig_len;
    int rc;

    WEB_NEED_DB(rq);
    if ((rc = web_read_json(rq->conn, &body)) != 0)
        return rc;
    if (json_check_keys(body, keys, &err) != 0 ||
        image_member(body, "photo", PHOTO_MAX_BYTES, &photo, &photo_len, &err) != 0 ||
        image_member(body, "signature", SIGNATURE_MAX_BYTES, &sig, &sig_len, &err) != 0) {
        rc = web_send_error(rq->conn, 422, "rejected", err_msg(&err));
        goto out;
    }
    memset(&e, 0, sizeof e);
    e.uin = opt_str(body, "uin");
    e.doc_type = opt_str(body, "doc_type");
    e.kind = opt_str(body, "kind");
    e.replaces = opt_str(body, "replaces");
    e.primary_identifier = opt_str(body, "surname");
    e.secondary_identifier = opt_str(body, "given_names");
    e.photo = photo;
    e.photo_len = photo_len;
    e.signature = sig;
    e.signature_len = sig_len;
    e.contact = json_object_get(body, "contact");
    if (e.contact && json_is_null(e.contact))
        e.contact = NULL;
    env = env_of(rq);
    if (rq->srv->national_fetch && rq->srv->national_url && *rq->srv->national_url) {
        /* bounded as the registrar's screen is (national_timeout_seconds) */
        national.url = rq->srv->national_url;
        national.ca = conf_get(rq->srv->dd->conf, "national_ca", NULL);
        national.timeout_s = (int)rq->srv->national_timeout;
        env.national = rq->srv->national_fetch;
        env.national_ctx = &national;
    }
    if (office_app_enrol(&env, &e, &out, &err) != 0)
        rc = holder_refusal(rq, &env, e.uin, NULL, &err);
    else
        rc = web_send_owned(rq, 201, out);
out:
    json_decref(body);
    free(photo);
    free(sig);
    return rc;
}

int web_api_applications_list(struct web_request *rq)
{
    struct office_env env;
    struct err err = ERR_INIT;
    char status[32], limit[16];
    json_t *out = NULL;
    long n = 100;

    WEB_NEED_DB(rq);
    if (web_query(rq, "status", status, sizeof status) < 0 || web_query(rq, "limit", limit, sizeof limit) < 0)
        return web_send_error(rq->conn, 400, "bad_query", "status or limit too long");
    if (limit[0]) {
        char *end;
        n = strtol(limit, &end, 10);
        if (*end || n < 1 || n > 1000)
            return web_send_error(rq->conn, 400, "bad_query", "limit: 1 to 1000");
    }
    env = env_of(rq);
    if (office_app_list(&env, status[0] ? status : NULL, (int)n, &out, &err) != 0)
        return office_failure(rq, &err);
    return web_send_owned(rq, 200, json_pack("{s:o}", "applications", out));
}

/* A read of the office object that path parameter 0 names: FN as the
 * signed-in user. A parameter of SIZE bytes or more (SIZE at most ID_MAX)
 * answers 404 with NOT_FOUND. Returns 0 with *OUT set, or the status of
 * the error answer already sent. */
typedef int (*office_key_fn)(struct office_env *env, const char *key, json_t **out,
                             struct err *err);

static int office_call_by_key(struct web_request *rq, office_key_fn fn, size_t size,
                              const char *not_found, json_t **out)
{
    struct office_env env;
    struct err err = ERR_INIT;
    char key[ID_MAX];

    *out = NULL;
    WEB_NEED_DB(rq);
    if (size > sizeof key || web_param(rq, 0, key, size) != 0)
        return web_send_error(rq->conn, 404, "not_found", not_found);
    env = env_of(rq);
    if (fn(&env, key, out, &err) != 0)
        return office_failure(rq, &err);
    return 0;
}

int web_api_application_show(struct web_request *rq)
{
    json_t *out = NULL;
    int rc = office_call_by_key(rq, office_app_show, ID_MAX, "no such application", &out);

    return rc != 0 ? rc : web_send_owned(rq, 200, out);
}

#if WEB_HAVE_PKI
static int pki_event(void *ctx, struct db *db, const char *type, const json_t *objects,
                     const json_t *data, struct err *err)
{
    return registry_event_append(db, ctx, type, objects, data, NULL, err);
}

/* The worker's PKI (on the worker's own connection, so the chip's event
 * joins the office transaction) when it has a document signer, else NULL.
 * Release with pki_release. */
static struct pki *pki_with_ds(struct web_request *rq)
{
    struct err err = ERR_INIT;
    struct pki *p = web_worker_pki(rq, &err);
    json_t *certs = NULL, *c;
    bool ds = false;
    size_t i;

    if (p == NULL)
        return NULL;
    if (pki_list(p, &certs, &err) == 0)
        json_array_foreach(certs, i, c) {
            const char *kind = opt_str(c, "kind"), *status = opt_str(c, "status");
            if (kind && strcmp(kind, pki_kind_name(PKI_KIND_DS)) == 0 &&
                (status == NULL || strcmp(status, "revoked") != 0))
                ds = true;
        }
    json_decref(certs);
    if (!ds)
        return NULL;
    pki_require_events(p, true);
    pki_set_event_sink(p, pki_event, rq->session->actor);
    return p;
}

/* The handle outlives the request: forget this request's actor. */
static void pki_release(struct pki *p)
{
    if (p == NULL)
        return;
    pki_set_event_sink(p, NULL, NULL);
    pki_require_events(p, false);
}
#endif

/* POST /applications/{id}/{action}: approve, reject, personalize, qc,
 * issue, collect. */
int web_api_application_action(struct web_request *rq)
{
    struct office_env env;
    struct err err = ERR_INIT;
    char id[ID_MAX], action[32];
    json_t *body = NULL, *out = NULL;
    int rc;

    WEB_NEED_DB(rq);
    if (web_param(rq, 0, id, sizeof id) != 0 || web_param(rq, 1, action, sizeof action) != 0)
        return web_send_error(rq->conn, 404, "not_found", "no such application");
    if (rq->ri->content_length > 0 && (rc = web_read_json(rq->conn, &body)) != 0)
        return rc;
    env = env_of(rq);
    if (strcmp(action, "approve") == 0) {
        rc = office_app_approve(&env, id, &out, &err);
    } else if (strcmp(action, "reject") == 0) {
        rc = office_app_reject(&env, id, opt_str(body, "reason"), &err);
    } else if (strcmp(action, "personalize") == 0) {
#if WEB_HAVE_PKI
        env.pki = pki_with_ds(rq);
#endif
        rc = office_app_personalize(&env, id, &out, &err);
#if WEB_HAVE_PKI
        pki_release(env.pki);
#endif
    } else if (strcmp(action, "qc") == 0) {
        rc = office_app_qc(&env, id, json_is_true(json_object_get(body, "pass")),
                           opt_str(body, "reason"), &err);
    } else if (strcmp(action, "issue") == 0) {
        rc = office_app_issue(&env, id, &err);
    } else if (strcmp(action, "collect") == 0) {
        rc = office_app_collect(&env, id, &err);
    } else {
        json_decref(body);
        return web_send_error(rq->conn, 404, "not_found", "no such action");
    }
    json_decref(body);
    if (rc != 0)
        return holder_refusal(rq, &env, NULL, id, &err);
    if (out == NULL && office_app_show(&env, id, &out, &err) != 0)
        return office_failure(rq, &err);
    return web_send_owned(rq, 200, out);
}

/* Downloads go through the one response helper (web/http.c): the security
 * headers, and no body for HEAD. */
static int send_bytes(struct web_request *rq, const unsigned char *p, size_t len,
                      const char *type, const char *filename)
{
    return web_send_download(rq->conn, type, filename, p, len);
}

/* GET /applications/{id}/datapage.pdf | photo | signature | chip.json */
int web_api_application_file(struct web_request *rq)
{
    struct office_env env;
    struct err err = ERR_INIT;
    char id[ID_MAX], what[32], name[200];
    unsigned char *p = NULL;
    size_t len = 0;
    int rc;

    WEB_NEED_DB(rq);
    if (web_param(rq, 0, id, sizeof id) != 0 || web_param(rq, 1, what, sizeof what) != 0)
        return web_send_error(rq->conn, 404, "not_found", "no such application");
    env = env_of(rq);
    if (strcmp(what, "datapage.pdf") == 0) {
        if (office_app_datapage(&env, id, &p, &len, &err) != 0)
            return office_failure(rq, &err);
        /* cannot truncate: id[ID_MAX 128] and what[32] with suffixes fit in name[200] */
        (void)snprintf(name, sizeof name, "%s-datapage.pdf", id);
        rc = send_bytes(rq, p, len, "application/pdf", name);
    } else if (strcmp(what, "photo") == 0 || strcmp(what, "signature") == 0) {
        /* The application's own images, under the application's access
         * rule: the store has no route of its own. */
        bool photo = strcmp(what, "photo") == 0;
        const char *hash;
        json_t *app = NULL;
        if (office_app_show(&env, id, &app, &err) != 0)
            return office_failure(rq, &err);
        hash = opt_str(app, photo ? "photo_hash" : "signature_hash");
        if (hash == NULL) {
            json_decref(app);
            return web_send_error(rq->conn, 404, "not_found",
                                  "this application has no signature image");
        }
        rc = registry_blob_get(env.db, env.blobs_dir, hash, &p, &len, &err);
        json_decref(app);
        if (rc != 0)
            return office_failure(rq, &err);
        (void)snprintf(name, sizeof name, "%s-%s.%s", id, what,
                 len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0 ? "png" : "jpg");
        rc = send_bytes(rq, p, len,
                        len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0 ? "image/png"
                                                                            : "image/jpeg",
                        name);
    } else if (strcmp(what, "chip.json") == 0) {
        /* The chip package as one JSON file: each EF by FID, base64. */
        json_t *app = NULL, *man = NULL, *pkg, *v;
        const char *key;
        if (office_app_show(&env, id, &app, &err) != 0)
            return office_failure(rq, &err);
        if (!json_is_string(json_object_get(app, "chip_hash"))) {
            json_decref(app);
            return web_send_error(rq->conn, 404, "not_found",
                                  "this application has no chip package");
        }
        rc = registry_blob_get(env.db, env.blobs_dir, opt_str(app, "chip_hash"), &p, &len, &err);
        json_decref(app);
        if (rc != 0 || json_parse((const char *)p, len, &man, &err) != 0) {
            free(p);
            return office_failure(rq, &err);
        }
        free(p);
        p = NULL;
        pkg = json_object();
        bool bad = pkg == NULL; /* a file that could not be added */
        json_object_foreach(man, key, v) {
            unsigned char *ef = NULL;
            size_t eflen = 0;
            if (strcmp(key, "manifest") == 0) {
                bad |= json_object_set(pkg, key, v) != 0;
                continue;
            }
            /* the chip's sealed AA and CA private keys never leave the office */
            if (strcmp(key, "sealed_keys") == 0 || !json_is_string(v))
                continue;
            if (registry_blob_get(env.db, env.blobs_dir, json_string_value(v), &ef, &eflen,
                                  &err) != 0) {
                json_decref(pkg);
                json_decref(man);
                return office_failure(rq, &err);
            }
            char *b64 = b64_encode(ef, eflen);
            bad |= json_object_set_new(pkg, key, json_string(b64 ? b64 : "")) != 0;
            free(b64);
            free(ef);
        }
        json_decref(man);
        {
            char *s = bad ? NULL : json_dumps(pkg, JSON_COMPACT | JSON_SORT_KEYS);
            (void)snprintf(name, sizeof name, "%s-chip.json", id);
            rc = s ? send_bytes(rq, (unsigned char *)s, strlen(s), "application/json", name)
                   : web_send_error(rq->conn, 500, "internal", "out of memory");
            free(s);
        }
        json_decref(pkg);
    } else {
        return web_send_error(rq->conn, 404, "not_found", "no such file");
    }
    free(p);
    return rc;
}

/* ---- documents and stock ------------------------------------------------------ */

int web_api_document_show(struct web_request *rq)
{
    json_t *out = NULL;
    int rc = office_call_by_key(rq, office_document_show, 64, "no such document number", &out);

    return rc != 0 ? rc : web_send_owned(rq, 200, out);
}

/* A change to the office object path parameter 0 names (a parameter of 64
 * bytes or more answers 404 with NOT_FOUND), from a JSON body with no
 * member besides KEYS (NULL: any member): CHANGE as the signed-in user,
 * then 200 with SHOW's view of the object. Returns the status of the
 * answer sent. */
typedef int (*office_change_fn)(struct office_env *env, const char *key, const json_t *body,
                                struct err *err);

static int office_change_by_key(struct web_request *rq, const char *const *keys,
                                office_change_fn change, office_key_fn show,
                                const char *not_found)
{
    struct office_env env;
    struct err err = ERR_INIT;
    char key[64];
    json_t *body = NULL, *out = NULL;
    int rc;

    WEB_NEED_DB(rq);
    if (web_param(rq, 0, key, sizeof key) != 0)
        return web_send_error(rq->conn, 404, "not_found", not_found);
    if ((rc = keys ? office_body(rq, keys, &body) : web_read_json(rq->conn, &body)) != 0)
        return rc;
    env = env_of(rq);
    rc = change(&env, key, body, &err);
    json_decref(body);
    if (rc != 0 || show(&env, key, &out, &err) != 0)
        return office_failure(rq, &err);
    return web_send_owned(rq, 200, out);
}

static int document_status_change(struct office_env *env, const char *num, const json_t *body,
                                  struct err *err)
{
    return office_document_set_status(env, num, opt_str(body, "status"), opt_str(body, "reason"),
                                      json_object_get(body, "evidence"), err);
}

int web_api_document_status(struct web_request *rq)
{
    static const char *const keys[] = { "status", "reason", "evidence", NULL };

    return office_change_by_key(rq, keys, document_status_change, office_document_show,
                                "no such document number");
}

int web_api_document_trace(struct web_request *rq)
{
    json_t *out = NULL;
    int rc = office_call_by_key(rq, office_document_trace, 64, "no such document number", &out);

    if (rc != 0)
        return rc;
    /* the person's trace carries every version of the birth record */
    if ((rc = web_record_viewed(
             rq, json_string_value(json_object_get(json_object_get(out, "trace"), "record_id")))) !=
        0) {
        json_decref(out);
        return rc;
    }
    return web_send_owned(rq, 200, out);
}

int web_api_document_alerts(struct web_request *rq)
{
    struct office_env env;
    struct err err = ERR_INIT;
    struct buf b = BUF_INIT(64 << 20);
    char format[16];
    int rc;

    WEB_NEED_DB(rq);
    if (web_query(rq, "format", format, sizeof format) < 0)
        return web_send_error(rq->conn, 400, "bad_query", "format: csv or json");
    env = env_of(rq);
    if (office_documents_alerts(&env, format[0] ? format : "json", &b, &err) != 0)
        return office_failure(rq, &err);
    rc = send_bytes(rq, b.data ? b.data : (const unsigned char *)"", b.len,
                    strcmp(format, "csv") == 0 ? "text/csv; charset=utf-8" : "application/json",
                    strcmp(format, "csv") == 0 ? "alerts.csv" : "alerts.json");
    buf_release(&b);
    return rc;
}

int web_api_booklets_report(struct web_request *rq)
{
    return web_send_read(rq, office_booklet_report, NULL);
}

int web_api_booklets_receive(struct web_request *rq)
{
    static const char *const keys[] = { "doc_type", "first", "last", "reference", NULL };
    struct office_env env;
    struct err err = ERR_INIT;
    json_t *body = NULL, *out = NULL;
    int rc;

    WEB_NEED_DB(rq);
    if ((rc = office_body(rq, keys, &body)) != 0)
        return rc;
    env = env_of(rq);
    rc = office_booklets_receive(env.db, &env.actor, opt_str(body, "doc_type"),
                                 opt_str(body, "first"), opt_str(body, "last"),
                                 opt_str(body, "reference"), &out, &err);
    json_decref(body);
    if (rc != 0)
        return office_failure(rq, &err);
    return web_send_owned(rq, 201, out);
}

static int booklet_spoil_change(struct office_env *env, const char *serial, const json_t *body,
                                struct err *err)
{
    return office_booklet_spoil(env->db, &env->actor, serial, opt_str(body, "reason"), err);
}

static int booklet_show(struct office_env *env, const char *serial, json_t **out,
                        struct err *err)
{
    return office_booklet_show(env->db, serial, out, err);
}

int web_api_booklet_spoil(struct web_request *rq)
{
    return office_change_by_key(rq, NULL, booklet_spoil_change, booklet_show,
                                "booklet not in stock");
}

#endif
#endif
