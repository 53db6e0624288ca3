/* civreg web: internals shared by the server, the dispatcher and the route
 * handlers. Nothing here is API outside web/. */
#ifndef CIVREG_WEB_INT_H
#define CIVREG_WEB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <civetweb.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/embed.h"
#include "db/datadir.h"
#include "db/db.h"
#include "db/group.h"
#include "issuance/passport/passport.h"
#include "client_addr.h"
#include "conngate.h"
#include "session.h"
#include "throttle.h"

/* Roles: the same bits as the registry's enum registry_role (auth.c checks
 * that they agree when the registry is built in). */
enum {
    WEB_ROLE_CLERK = 1u << 0,
    WEB_ROLE_REGISTRAR = 1u << 1,
    WEB_ROLE_ENROLMENT_OFFICER = 1u << 2,
    WEB_ROLE_APPROVER = 1u << 3,
    WEB_ROLE_ISSUANCE_OPERATOR = 1u << 4,
    WEB_ROLE_AUDITOR = 1u << 5,
    WEB_ROLE_ADMIN = 1u << 6,
};
#define WEB_ROLES_ALL 0x7fu
/* Route "roles" value meaning: no session needed. */
#define WEB_PUBLIC 0x80000000u

/* Role names as the API and the UI spell them, in bit order. */
extern const char *const web_role_names[7];

/* Route flags. */
enum {
    WEB_API = 1u << 0,     /* JSON: signed out answers 401 */
    WEB_PAGE = 1u << 1,    /* HTML: signed out answers 303 to /signin */
    WEB_ASSET = 1u << 2,   /* static files */
    WEB_NO_CSRF = 1u << 3, /* state-changing but exempt (sign-in: no session yet) */
    WEB_RAW_BODY = 1u << 4, /* the body is a file (upload), not JSON */
};

/* Body caps. */
#define WEB_MAX_JSON_BODY (2u * 1024 * 1024)
#define WEB_MAX_FORM_BODY (64u * 1024)
#define WEB_MAX_UPLOAD (16u * 1024 * 1024) /* one scanned page */

/* One per server: read-only after start-up except the session store and the
 * throttle, which carry their own locks. */
struct web_server {
    struct datadir *dd;
    int schema_version;
    bool tls;
    const char *tls_cert, *tls_key; /* borrowed from web_options */
    struct web_sessions *sessions;
    struct web_throttle *throttle;
    struct web_throttle *seal_throttle; /* public seal checks, per address */
    struct web_conngate *gate;          /* connections per address */
    struct web_addrset trusted;         /* trusted_proxies from civreg.conf */
    struct web_seal_limits *seal;       /* public seal checks, all addresses together */
    char asset_fp[17]; /* fingerprint of the embedded assets (hex) */
    struct web_trust *trust; /* CSCA certificates for seal checks (pki_worker.c) */
    unsigned long search_min_score; /* search results below this score are not shown */
    office_national_fetch national_fetch; /* web_options; used with national_url */
    const char *national_url;             /* civreg.conf national_url, NULL = none */
    unsigned long national_timeout; /* seconds a request to the national tier may take */
    /* The group commit of the logged views (db/group.h): one writer thread
     * with its own connection; NULL runs each write on the worker's own. */
    struct db_group *writes;
};

/* An admission gate (web/gate.c): at most RUNNING holders at once and
 * WAITING more queued for a slot. web_gate_enter returns 0 when admitted
 * (web_gate_leave afterwards), -1 when the queue is full or no slot freed
 * within WAIT_MS. */
struct web_gate;
int web_gate_new(unsigned running, unsigned waiting, struct web_gate **out, struct err *err)
    __attribute__((warn_unused_result));
void web_gate_free(struct web_gate *g);
int web_gate_enter(struct web_gate *g, unsigned wait_ms) __attribute__((warn_unused_result));
void web_gate_leave(struct web_gate *g);

/* The public seal check's own limits (civreg.conf, see docs/extracts.md),
 * far below a clerk's: one page of at most MEGAPIXELS, SECONDS of work, and
 * one gate shared by every public request. */
struct web_seal_limits {
    unsigned long megapixels;    /* seal_verify_megapixels */
    unsigned long seconds;       /* seal_verify_seconds */
    unsigned long concurrent;    /* seal_verify_concurrent */
    unsigned long queue;         /* seal_verify_queue */
    unsigned long queue_wait_ms; /* seal_verify_queue_wait_ms */
    struct web_gate *gate;
};
struct conf;
/* Read the limits from civreg.conf (defaults where absent); *OUT is freed
 * with web_seal_limits_free (NULL is a no-op). */
int web_seal_limits_new(const struct conf *conf, struct web_seal_limits **out, struct err *err)
    __attribute__((warn_unused_result));
void web_seal_limits_free(struct web_seal_limits *l);

/* One per worker thread (CivetWeb init_thread): its own SQLite connection. */
struct web_worker {
    struct db *db; /* NULL when the database could not be opened */
    struct pki *pki; /* the office PKI on DB, opened on first use (pki_worker.c) */
};

/* --- pki_worker.c ----------------------------------------------------- */

struct pki;
struct web_trust;
struct web_request;

/* The server's cache of trust anchors (NULL without the issuance module). */
int web_trust_new(struct web_trust **out, struct err *err);
void web_trust_free(struct web_trust *t);
/* Close the worker's PKI handle (before its connection closes). */
void web_worker_pki_close(struct web_worker *w);
#ifdef CIVREG_HAVE_PASSPORT
/* The worker's PKI on its own connection (borrowed; NULL with ERR set). */
struct pki *web_worker_pki(struct web_request *rq, struct err *err);
/* Append every CSCA and link certificate (PEM) to OUT: from the server's
 * cache, exported again only when the certificates changed. */
int web_trust_anchors(struct web_request *rq, time_t now, struct buf *out, struct err *err);
#endif

#define WEB_MAX_PARAMS 4

/* One request, built by the dispatcher and handed to the handler. */
struct web_request {
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    struct web_server *srv;
    struct web_worker *w;
    const struct web_route *route;
    struct web_session *session; /* acquired by the dispatcher; NULL when signed out */
    const char *path;            /* the local URI, without the query string */
    struct {
        const char *p;
        size_t len;
    } params[WEB_MAX_PARAMS];    /* the {name} segments of the route, in order */
    size_t nparams;
    char client_addr[WEB_ADDR_MAX]; /* see web_client_addr */
};

typedef int (*web_handler)(struct web_request *rq);

/* A route: method, path ({name} matches one segment, a final "*" the rest),
 * who may use it (WEB_PUBLIC or a set of role bits: any one suffices), flags,
 * the handler and a one-line summary (the OpenAPI document uses it). */
struct web_route {
    const char *method;
    const char *path;
    const char *action; /* of the access policy; NULL: public */
    unsigned flags;
    web_handler handler;
    const char *summary;
    const char *screen; /* pages: the JS screen the shell loads */
};

/* The route table, defined in routes.c; ends with a NULL method. */
extern const struct web_route web_routes[];

/* The roles a route lets in, from the access policy's table for its action:
 * WEB_PUBLIC for a public route (no action). */
unsigned web_route_roles(const struct web_route *r);
/* The actions ROLES may take, as a JSON array for the browser (new
 * reference). */
json_t *web_actions_json(unsigned roles);

/* --- dispatch.c ------------------------------------------------------- */

/* Find the route for METHOD and PATH. Returns it and fills the {name}
 * parameters of RQ; NULL with *STATUS = 404 (no such path) or 405 (the path
 * exists, not with that method; ALLOW gets the methods it has). */
const struct web_route *web_route_match(const struct web_route *table, const char *method,
                                        const char *path, struct web_request *rq, int *status,
                                        char *allow, size_t allow_size);

/* True for methods that change state (everything but GET, HEAD, OPTIONS). */
bool web_method_changes_state(const char *method);

/* The access decision for ROUTE: 0 = allowed, else the status to answer:
 * 401 (API, signed out), 303 (page, signed out), 403 (role missing, or CSRF
 * token missing or wrong). SIGNED_IN and ROLES describe the session;
 * SESSION_CSRF is its token and GIVEN_CSRF what the request carried (may be
 * NULL). *WHY gets a short code for the error body. */
int web_access_check(const struct web_route *route, const char *method, bool signed_in,
                     unsigned roles, const char *session_csrf, const char *given_csrf,
                     const char **why) __attribute__((warn_unused_result));

/* CivetWeb's single entry point: routes every request through the table. */
int web_dispatch(struct mg_connection *conn, void *cbdata);

struct web_worker *web_worker_of(const struct mg_connection *conn);

/* --- http.c: responses ------------------------------------------------ */

/* Each sends the security headers every civreg answer carries and returns
 * the status code, which handlers return. */
int web_send_json(struct mg_connection *conn, int status, json_t *body);
int web_send_error(struct mg_connection *conn, int status, const char *code, const char *message);

/* Load the OpenSSL 3 compatibility object for CivetWeb <= 1.15 (see
 * web/tls_compat/tls_compat.c) once per process. Returns 0 or -1. */
int web_tls_compat_load(struct err *err) __attribute__((warn_unused_result));
/* The same with one more header (Allow for 405, Retry-After for 429). */
int web_send_error_hdr(struct mg_connection *conn, int status, const char *code,
                       const char *message, const char *hname, const char *hvalue);
/* The status for an error kind: invalid 422, not_found 404, forbidden 403,
 * conflict 409, busy 503, internal 500. The one place that decides it. */
int web_status_of(enum err_kind kind);
/* Answer a module's failure with the status of its kind and its message;
 * busy and internal failures answer only a reference id, and the message
 * goes to the log under that id. A failure of the national tier answers
 * by its code: national_timeout 504, national_unreachable and
 * national_refused 502, with its message. */
int web_send_failure(struct mg_connection *conn, const struct err *err);
/* JSON with extra headers: HDRS is name, value, ..., NULL (may be NULL). */
int web_send_json_hdrs(struct mg_connection *conn, int status, json_t *body,
                       const char *const *hdrs);
int web_send_html(struct mg_connection *conn, int status, const char *html, size_t len,
                  const char *extra_headers);
int web_send_redirect(struct mg_connection *conn, const char *location);
/* A file to save (data page, chip package, alert list): LEN bytes at P as
 * TYPE, "Content-Disposition: attachment" with FILENAME reduced to
 * [A-Za-z0-9._-], never cached. Returns 200. */
int web_send_download(struct mg_connection *conn, const char *type, const char *filename,
                      const void *p, size_t len);
/* A static asset: TYPE, an ETag, IMMUTABLE for fingerprinted URLs. */
int web_send_asset(struct mg_connection *conn, const struct embedded_file *f, const char *type,
                   const char *etag, bool immutable);

/* Read the request body into OUT, at most MAX bytes (mg_read loop).
 * Returns 0, or the status to answer: 413 too large, 400 truncated. The
 * body may hold a password: growing OUT leaves no copy behind and a failure
 * wipes it; release OUT with buf_release_secret when it may hold one. */
int web_read_body(struct mg_connection *conn, size_t max, struct buf *out);

/* The loop behind web_read_body over any source: READ fills up to N bytes
 * and returns the count, 0 at the end, negative on error (mg_read's
 * contract). CONTENT_LENGTH is the announced length, negative when none. */
int web_body_collect(int (*read)(void *ctx, void *p, size_t n), void *ctx,
                     long long content_length, size_t max, struct buf *out);

/* Parse BODY as the JSON object of an API request. Wipes and releases BODY
 * whatever happens (it may hold a password). Returns 0 with *OUT (caller
 * decrefs), or -1 with the message in ERR. */
int web_body_json(struct buf *body, json_t **out, struct err *err);

/* Parse the JSON body of an API request (Content-Type application/json,
 * capped at WEB_MAX_JSON_BODY). Returns 0 with *OUT (caller decrefs), or a
 * status already answered with an error body. */
int web_read_json(struct mg_connection *conn, json_t **out);

/* The value of cookie NAME from the Cookie header into OUT; -1 if absent or
 * longer than SIZE-1. */
int web_cookie(const struct mg_connection *conn, const char *name, char *out, size_t size);

/* A form field of an application/x-www-form-urlencoded BODY, URL-decoded
 * into OUT; -1 if absent or too long. */
int web_form_field(const char *body, size_t len, const char *name, char *out, size_t size);

/* Append S (LEN bytes) to OUT with & < > " ' escaped for HTML text and
 * attribute values. Returns 0 or -1 (cap). */
int web_html_escape(struct buf *out, const char *s, size_t len) __attribute__((warn_unused_result));

/* The client's address as text (for throttling): the TCP peer, or behind a
 * trusted proxy the address it forwarded (client_addr.h). */
const char *web_client_addr(const struct web_request *rq);

/* --- api_seal.c: public seal verification ---------------------------- */

/* POST /api/v1/seal/verify: an image (scan or photo of an extract) or the
 * seal text; answers {valid:true, data, signer} or {valid:false, error}. */
int web_api_seal_verify(struct web_request *rq);

/* --- assets.c ----------------------------------------------------------- */

/* The fingerprint of the embedded assets: 16 hex digits over every file. */
void web_assets_fingerprint(char out[17]);
/* The embedded asset NAME (e.g. "js/app.js"), or NULL. */
const struct embedded_file *web_asset_find(const char *name);
/* The Content-Type for NAME by its extension. */
const char *web_asset_type(const char *name);

/* --- openapi.c ---------------------------------------------------------- */

/* The OpenAPI 3 document describing every /api/v1 route of TABLE (new
 * reference), or NULL when out of memory. */
json_t *web_openapi(const struct web_route *table);

/* --- auth.c: the bridge to the registry -------------------------------- */

/* Who signed in: copied into the session. */
struct web_identity {
    char username[64];
    char office[64];
    unsigned roles;
};

/* Check USERNAME and PASSWORD against the registry; on success *ACTOR is
 * the registry's actor (signing key unlocked), freed with web_actor_free.
 * Returns 0; 1 for wrong credentials (message in ERR); -1 when sign-in
 * cannot be done at all (no registry, database error). */
int web_authenticate(struct web_request *rq, const char *username, const char *password,
                     void **actor, struct web_identity *id, struct err *err)
    __attribute__((warn_unused_result));
void web_actor_free(void *actor);
/* Is the account of the session's ACTOR unchanged since sign-in (enabled,
 * same roles, epoch)? 0 yes, 1 no (reason in ERR), -1 cannot tell. */
int web_account_current(struct web_request *rq, void *actor, struct err *err)
    __attribute__((warn_unused_result));

/* --- handlers (routes.c) ------------------------------------------------ */
int web_handle_healthz(struct web_request *rq);
int web_handle_asset(struct web_request *rq);
int web_handle_openapi(struct web_request *rq);
int web_handle_session_create(struct web_request *rq);
int web_handle_session_delete(struct web_request *rq);
int web_handle_session_show(struct web_request *rq);
int web_handle_session_update(struct web_request *rq);
int web_handle_page(struct web_request *rq);

#ifdef CIVREG_HAVE_REGISTRY
/* api_registry.c: the JSON API over the registry. */
int web_api_records_list(struct web_request *rq);
int web_api_search(struct web_request *rq);
int web_api_record_duplicates(struct web_request *rq);
int web_api_record_duplicate_resolve(struct web_request *rq);
#ifdef CIVREG_HAVE_NATIONAL
/* api_national.c: cross-district duplicate cases, through the national tier. */
int web_api_national_duplicates(struct web_request *rq);
int web_api_national_duplicate_resolve(struct web_request *rq);
#endif
int web_api_record_example(struct web_request *rq);
int web_api_record_draft(struct web_request *rq);
int web_api_record_show(struct web_request *rq);
int web_api_record_history(struct web_request *rq);
int web_api_record_verify(struct web_request *rq);
int web_api_record_blind(struct web_request *rq);
int web_api_work_queues(struct web_request *rq);
int web_api_extract_list(struct web_request *rq);
int web_api_extract_print(struct web_request *rq);
int web_api_record_register(struct web_request *rq);
int web_api_record_correct(struct web_request *rq);
int web_api_person_show(struct web_request *rq);
int web_api_record_evidence(struct web_request *rq);
int web_api_evidence_add(struct web_request *rq);
int web_api_audit_trace(struct web_request *rq);
int web_api_audit_bundle(struct web_request *rq);
int web_api_audit_head(struct web_request *rq);
int web_api_users_list(struct web_request *rq);
int web_api_user_add(struct web_request *rq);
int web_api_user_disable(struct web_request *rq);
int web_api_user_roles(struct web_request *rq);
int web_api_user_reset(struct web_request *rq);
/* Who saw which record: a signed record.view event for record REF (VIA
 * names the route) before any of its personal data is sent. Returns 0, or
 * the status of the 500 answer already sent: no event, no data. */
int web_record_viewed(struct web_request *rq, const char *ref);
#endif

/* pages.c: the HTML shell of a page (PAGE names the JS screen), every value
 * escaped. Returns the status. */
int web_render_shell(struct web_request *rq, const char *page);
/* The same page answered with STATUS (a refused screen: 403). */
int web_render_shell_status(struct web_request *rq, const char *page, int status);

/* --- request.c: what API handlers read and answer --------------------- */

/* Path parameter I of RQ as a NUL-terminated copy in OUT; -1 if absent or
 * too long for SIZE. */
int web_param(const struct web_request *rq, size_t i, char *out, size_t size);
/* The query-string variable NAME (URL-decoded) into OUT: 0 found, 1 absent,
 * -1 too long. */
int web_query(const struct web_request *rq, const char *name, char *out, size_t size);
/* Send BODY with STATUS and release it (the handler built it to answer). */
int web_send_owned(struct web_request *rq, int status, json_t *body);
/* 0 when RQ's worker has a database connection, else the status of the
 * 503 answer already sent. */
int web_db_unavailable(struct web_request *rq);
/* Answer 503 from the handler when the worker has no database. */
#define WEB_NEED_DB(rq)                                                                          \
    do {                                                                                         \
        int need_db_rc_ = web_db_unavailable(rq);                                                \
        if (need_db_rc_ != 0)                                                                    \
            return need_db_rc_;                                                                  \
    } while (0)
/* A module's read of the worker's database with no argument (a list, a
 * report): FN, then its answer with 200, as it is or under the member WRAP
 * when WRAP is not NULL; a failure answers with the status of its kind. */
typedef int (*web_read_fn)(struct db *db, json_t **out, struct err *err);
int web_send_read(struct web_request *rq, web_read_fn fn, const char *wrap);

#endif
