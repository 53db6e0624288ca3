/* civreg web: the route table and the handlers that belong to no feature
 * (health, assets, OpenAPI, sessions, page shells). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civreg_version.h"
#include "core/json.h"
#include "core/log.h"
#include "core/secret.h"
#include "web_int.h"
#include "passport_routes.h"
#include "scan_routes.h"

/* Deny by default: a request that matches no row is 404; a row names the
 * action of the access policy (registry/access.c) whose roles are the only
 * ones let in (NULL: public; "session": any signed-in user). Traces, bundles
 * and records show personal data: not for administrators (the policy's
 * rule). Order matters only for patterns that overlap. */
const struct web_route web_routes[] = {
    /* Public: health, assets, sign-in. */
    { "GET", "/healthz", NULL, WEB_API, web_handle_healthz, "Liveness and schema version" },
    { "GET", "/static/*", NULL, WEB_ASSET, web_handle_asset, "Embedded static assets" },
    { "GET", "/signin", NULL, WEB_PAGE, web_handle_page, "Sign-in page", "signin" },
#ifdef CIVREG_HAVE_PASSPORT
    /* Certified extracts: anyone may check a seal (throttled per address). */
    { "GET", "/seal", NULL, WEB_PAGE, web_handle_page, "Public seal verification",
      "seal" },
    { "POST", "/api/v1/seal/verify", NULL, WEB_API | WEB_NO_CSRF | WEB_RAW_BODY,
      web_api_seal_verify, "Verify a visible digital seal (image or text), no sign-in" },
#endif
    { "POST", "/api/v1/session", NULL, WEB_API | WEB_NO_CSRF, web_handle_session_create,
      "Sign in with {username, password}; sets the session cookie, returns {csrf_token}" },
    /* Any signed-in user. */
    { "GET", "/", "session", WEB_PAGE, web_handle_page, "Home page for the user's roles", "home" },
    { "GET", "/api/v1/session", "session", WEB_API, web_handle_session_show,
      "The signed-in user, roles, language and CSRF token" },
    { "PATCH", "/api/v1/session", "session", WEB_API, web_handle_session_update,
      "Change the session's language ({lang: en|fr})" },
    { "DELETE", "/api/v1/session", "session", WEB_API, web_handle_session_delete,
      "Sign out: ends the session and wipes its unlocked key" },
    { "GET", "/api/v1/openapi.json", "session", WEB_API, web_handle_openapi,
      "This API described as OpenAPI 3" },
#ifdef CIVREG_HAVE_REGISTRY
    /* Birth records. Reading personal data is for the roles whose work
     * needs it; administrators manage accounts, not records. */
    { "GET", "/api/v1/records", "record.read", WEB_API, web_api_records_list,
      "Records, newest first; filters status, office, from/to (date of birth), limit, offset" },
    { "POST", "/api/v1/records", "record.draft", WEB_API, web_api_record_draft,
      "Key a new record as a draft ({record})" },
    { "GET", "/api/v1/records/example", "record.read", WEB_API, web_api_record_example,
      "A complete valid record: the shape of the record JSON" },
    { "GET", "/api/v1/records/{id}", "record.read", WEB_API, web_api_record_show,
      "A record (?version=N), its evidence and state; the view is logged" },
    { "GET", "/api/v1/records/{id}/history", "record.read", WEB_API, web_api_record_history,
      "Every version and every event of a record; the view is logged" },
    { "POST", "/api/v1/records/{id}/verify", "record.verify", WEB_API, web_api_record_verify,
      "Blind second keying ({record}); 409 with mismatches when fields differ" },
    { "GET", "/api/v1/records/{id}/blind", "record.verify", WEB_API, web_api_record_blind,
      "What a blind second keyer may know of a draft: evidence and the fields that differed, "
      "never the first keying's values" },
    { "GET", "/api/v1/queues", "queue.read", WEB_API, web_api_work_queues,
      "The user's work queues with counts (to verify, sent back, own drafts) and the office's" },
    { "POST", "/api/v1/records/{id}/register", "record.register", WEB_API,
      web_api_record_register, "Register a verified record: registration number, person, UIN" },
    { "POST", "/api/v1/records/{id}/corrections", "record.correct", WEB_API,
      web_api_record_correct, "Correct a record ({record, reason, evidence[]}): a new version" },
    { "GET", "/api/v1/search", "record.read", WEB_API, web_api_search,
      "Ranked search (?q=QUERY&limit=N): names in any script, dates, parents, place, numbers" },
    { "GET", "/api/v1/records/{id}/duplicates",
      "record.duplicates", WEB_API, web_api_record_duplicates,
      "Possible duplicates of a record with scores, reasons and resolutions" },
    { "POST", "/api/v1/records/{id}/duplicates/{other}", "duplicate.resolve", WEB_API,
      web_api_record_duplicate_resolve,
      "Resolve a candidate pair ({decision: duplicate|distinct, reason}): a signed event" },
    { "GET", "/api/v1/persons/{uin}", "person.read", WEB_API, web_api_person_show,
      "A person by UIN with the signed links to their birth record; the view is logged" },
    { "POST", "/api/v1/evidence", "evidence.add", WEB_API | WEB_RAW_BODY,
      web_api_evidence_add,
      "Upload a scan (raw body: image/png, image/jpeg, image/tiff or application/pdf, 16 MB)" },
    { "GET", "/api/v1/records/{id}/evidence/{hash}", "record.read", WEB_API,
      web_api_record_evidence,
      "A scan the record lists as evidence (by SHA-256), re-hashed on the way out" },
    /* Audit. */
    { "GET", "/api/v1/audit/trace/{id}", "audit.trace", WEB_API, web_api_audit_trace,
      "Provenance of a record, registration number or UIN with signature and proof checks; "
      "the view is logged" },
    { "GET", "/api/v1/audit/bundle/{id}", "audit.trace", WEB_API, web_api_audit_bundle,
      "A self-contained bundle that verifies offline (download); the view is logged" },
    { "GET", "/api/v1/audit/head", "audit.head", WEB_API,
      web_api_audit_head, "The latest signed tree head of the provenance log" },
    /* Users. */
    { "GET", "/api/v1/users", "user.list", WEB_API, web_api_users_list,
      "All users with roles, office, public key, state" },
    { "POST", "/api/v1/users", "user.manage", WEB_API, web_api_user_add,
      "Create a user ({username, password, roles[], office})" },
    { "POST", "/api/v1/users/{username}/disable", "user.manage", WEB_API,
      web_api_user_disable, "Disable a user" },
    { "POST", "/api/v1/users/{username}/roles", "user.manage", WEB_API, web_api_user_roles,
      "Set a user's roles ({roles[]}); the user's sessions end" },
    { "POST", "/api/v1/users/{username}/password", "user.manage", WEB_API, web_api_user_reset,
      "Reset a forgotten password ({password}): a new signing key; the user's sessions end" },
    /* Screens. */
    { "GET", "/records", "record.read", WEB_PAGE, web_handle_page, "Record list", "records" },
    { "GET", "/records/new", "record.draft", WEB_PAGE, web_handle_page, "Draft form", "draft" },
    { "GET", "/records/{id}", "record.read", WEB_PAGE, web_handle_page, "Record view", "record" },
    { "GET", "/records/{id}/verify", "record.verify", WEB_PAGE, web_handle_page,
      "Blind verification", "verify" },
    { "GET", "/records/{id}/correct", "record.correct", WEB_PAGE,
      web_handle_page, "Correction", "correct" },
    { "GET", "/search", "record.read", WEB_PAGE, web_handle_page, "Search results", "search" },
    { "GET", "/records/{id}/duplicates/{other}",
      "record.duplicates", WEB_PAGE, web_handle_page,
      "Side-by-side duplicate comparison", "compare" },
#ifdef CIVREG_HAVE_NATIONAL
    /* Cross-district duplicate cases, through the national tier
     * (web/api_national.c): registrars of an office party to them. */
    { "GET", "/api/v1/national/duplicates", "duplicate.national", WEB_API,
      web_api_national_duplicates,
      "This office's cross-district duplicate cases, both records side by side (national tier; "
      "503 not configured, 502 unreachable, 504 no answer in time)" },
    { "POST", "/api/v1/national/duplicates/{case}", "duplicate.resolve", WEB_API,
      web_api_national_duplicate_resolve,
      "Resolve a cross-district case ({decision: same|distinct, reason}): a signed "
      "national.duplicate event, pushed (202 when the push must wait)" },
    { "GET", "/national/duplicates", "duplicate.national", WEB_PAGE, web_handle_page,
      "Cross-district duplicate cases", "natdup" },
#endif
    { "GET", "/persons/{uin}", "person.read", WEB_PAGE, web_handle_page, "Person view", "person" },
    { "GET", "/audit", "audit.trace", WEB_PAGE, web_handle_page, "Audit search", "audit" },
    { "GET", "/audit/{id}", "audit.trace", WEB_PAGE, web_handle_page, "Trace timeline", "trace" },
    { "GET", "/admin/users", "user.list", WEB_PAGE, web_handle_page,
      "User administration", "users" },
#if defined(CIVREG_HAVE_PASSPORT) && __has_include("issuance/pki/pki.h")
    /* Certified extracts printed from the browser (web/api_extract.c). */
    { "GET", "/api/v1/records/{id}/extracts", "extract.read", WEB_API, web_api_extract_list, "The certified extracts issued of a record, with reprint reasons" },
    { "POST", "/api/v1/records/{id}/extracts", "extract.issue", WEB_API,
      web_api_extract_print,
      "Issue a certified extract ({reason} for a reprint): the sealed PDF (download)" },
    { "GET", "/records/{id}/extract", "extract.issue", WEB_PAGE,
      web_handle_page, "Certified extract: preview, print, reprint with a reason", "extract" },
#endif
    /* The passport office (issuance/, web/api_passport.c). */
    CIVREG_PASSPORT_ROUTES
    /* Digitization: upload batches, volumes, pages, keying (web/api_scan.c). */
    CIVREG_SCAN_ROUTES
#endif
    { NULL, NULL, 0, 0, NULL, NULL, NULL },
};

const char *const web_role_names[7] = {
    "clerk", "registrar", "enrolment_officer", "approver", "issuance_operator", "auditor", "admin",
};

int web_handle_healthz(struct web_request *rq)
{
    json_t *body;
    int version = 0, rc;

    /* Healthy means this worker can read the database right now. */
    if (rq->w == NULL || rq->w->db == NULL || db_schema_version(rq->w->db, &version, NULL) != 0)
        return web_send_error(rq->conn, 503, "database_unavailable",
                              "the database cannot be read");
    body = json_pack("{s:s,s:s,s:i}", "status", "ok", "version", CIVREG_VERSION, "schema_version",
                     version);
    rc = web_send_json(rq->conn, 200, body);
    json_decref(body);
    return rc;
}

int web_handle_openapi(struct web_request *rq)
{
    json_t *doc = web_openapi(web_routes);
    int rc = web_send_json(rq->conn, doc ? 200 : 500, doc);
    json_decref(doc);
    return rc;
}

int web_handle_page(struct web_request *rq)
{
    return web_render_shell(rq, rq->route->screen ? rq->route->screen : "home");
}

static json_t *roles_json(unsigned roles)
{
    json_t *a = json_array();
    for (unsigned i = 0; a != NULL && i < 7; i++)
        if (roles & (1u << i))
            if (json_array_append_new(a, json_string(web_role_names[i])) != 0) {
                json_decref(a); /* json_pack of the session then fails: no role dropped */
                return NULL;
            }
    return a;
}

static json_t *session_json(struct web_request *rq, const struct web_session *ses)
{
    char lang[8];
    web_session_lang(rq->srv->sessions, ses, lang);
    return json_pack("{s:s,s:s,s:s,s:o,s:o,s:s}", "csrf_token", ses->csrf, "username",
                     ses->username, "office", ses->office, "roles", roles_json(ses->roles),
                     "actions", web_actions_json(ses->roles), "lang", lang);
}

static bool lang_supported(const char *lang)
{
    return strcmp(lang, "en") == 0 || strcmp(lang, "fr") == 0;
}

/* The user's language lives with the installation's settings (key
 * "ui.lang:USER"), so it follows the user to any browser. */
static void lang_key(const char *user, char *out, size_t size)
{
    (void)snprintf(out, size, "ui.lang:%s", user);
}

static void user_lang(struct web_request *rq, const char *user, char out[8])
{
    char key[96], *v = NULL;

    memcpy(out, "en", 3);
    lang_key(user, key, sizeof key);
    if (rq->w != NULL && rq->w->db != NULL && db_setting_get(rq->w->db, key, &v, NULL) == 0 &&
        lang_supported(v))
        (void)snprintf(out, 8, "%s", v);
    free(v);
}

static void user_lang_set(struct web_request *rq, const char *user, const char *lang)
{
    struct err err = ERR_INIT;
    char key[96];

    lang_key(user, key, sizeof key);
    if (rq->w == NULL || rq->w->db == NULL || db_setting_set(rq->w->db, key, lang, &err) != 0)
        log_warn("web: cannot remember the language of %s: %s", user, err_msg(&err));
}

/* The session cookie: never readable by scripts, never sent cross-site,
 * only over TLS when the server speaks it. */
static void cookie_value(struct web_request *rq, const char *token, char *out, size_t size)
{
    (void)snprintf(out, size, "civreg_session=%s; Path=/; HttpOnly; SameSite=Strict%s%s", token,
                   token[0] ? "" : "; Max-Age=0", rq->ri->is_ssl ? "; Secure" : "");
}

int web_handle_session_create(struct web_request *rq)
{
    static const char *const keys[] = { "username", "password", "lang", NULL };
    struct err err = ERR_INIT;
    struct web_identity id;
    json_t *in = NULL, *out = NULL;
    const char *user = NULL, *pass = NULL, *lang = NULL, *addr = web_client_addr(rq);
    char token[WEB_TOKEN_LEN + 1], csrf[WEB_TOKEN_LEN + 1], cookie[160], retry[24], chosen[8];
    void *actor = NULL;
    time_t wait, now = time(NULL);
    int rc, a;

    if ((rc = web_read_json(rq->conn, &in)) != 0)
        return rc;
    if (json_check_keys(in, keys, &err) != 0 ||
        json_get_string(in, "username", true, &user, &err) != 0 ||
        json_get_string(in, "password", true, &pass, &err) != 0 ||
        json_get_string(in, "lang", false, &lang, &err) != 0) {
        rc = web_send_error(rq->conn, 400, "bad_request", err_msg(&err));
        goto out;
    }
    if (user[0] == '\0' || strlen(user) > 64 || strlen(pass) > 1024) {
        rc = web_send_error(rq->conn, 400, "bad_request",
                            "username must be 1 to 64 bytes and password at most 1024");
        goto out;
    }
    if (lang != NULL && !lang_supported(lang)) {
        rc = web_send_error(rq->conn, 400, "bad_request", "lang must be en or fr");
        goto out;
    }
    wait = web_throttle_check(rq->srv->throttle, user, addr, now);
    if (wait > 0) {
        (void)snprintf(retry, sizeof retry, "%lld", (long long)wait);
        rc = web_send_error_hdr(rq->conn, 429, "too_many_attempts",
                                "too many failed sign-ins; try again later", "Retry-After", retry);
        goto out;
    }
    memset(&id, 0, sizeof id);
    a = web_authenticate(rq, user, pass, &actor, &id, &err);
    if (a != 0) {
        if (a < 0) {
            log_error("web: sign-in unavailable: %s", err_msg(&err));
            rc = web_send_error(rq->conn, 503, "unavailable", "sign-in is unavailable");
            goto out;
        }
        web_throttle_failure(rq->srv->throttle, user, addr, now);
        log_warn("web: failed sign-in for '%s' from %s", user, addr);
        /* Same answer whether the user exists or not. */
        rc = web_send_error(rq->conn, 401, "bad_credentials", "wrong user name or password");
        goto out;
    }
    web_throttle_success(rq->srv->throttle, user, addr, now);
    /* Signing in again replaces the browser's old session: end it now
     * rather than leave its unlocked key until it expires. */
    if (rq->session != NULL)
        web_session_end(rq->srv->sessions, rq->session);
    /* An explicit choice on the sign-in screen is remembered; otherwise the
     * user's remembered language applies. */
    if (lang != NULL)
        user_lang_set(rq, id.username, lang);
    else
        user_lang(rq, id.username, chosen);
    if (lang != NULL)
        (void)snprintf(chosen, sizeof chosen, "%s", lang);
    if (web_session_create(rq->srv->sessions, actor, web_actor_free, id.username, id.office,
                           id.roles, chosen, now, token, csrf, &err) != 0) {
        rc = web_send_failure(rq->conn, &err);
        goto out;
    }
    log_info("web: %s signed in from %s", id.username, addr);
    cookie_value(rq, token, cookie, sizeof cookie);
    out = json_pack("{s:s,s:s,s:s,s:o,s:s}", "csrf_token", csrf, "username", id.username,
                    "office", id.office, "roles", roles_json(id.roles), "lang",
                    chosen);
    rc = web_send_json_hdrs(rq->conn, 200, out, (const char *[]){ "Set-Cookie", cookie, NULL });
    secret_wipe(token, sizeof token);
    secret_wipe(cookie, sizeof cookie);
    secret_wipe(csrf, sizeof csrf);
out:
    /* The password lives in the parsed body: wipe it before freeing. */
    if (pass != NULL)
        secret_wipe((char *)pass, strlen(pass));
    json_decref(in);
    json_decref(out);
    return rc;
}

int web_handle_session_show(struct web_request *rq)
{
    json_t *out = session_json(rq, rq->session);
    int rc = web_send_json(rq->conn, 200, out);
    json_decref(out);
    return rc;
}

int web_handle_session_update(struct web_request *rq)
{
    static const char *const keys[] = { "lang", NULL };
    struct err err = ERR_INIT;
    const char *lang = NULL;
    json_t *in = NULL, *out = NULL;
    int rc;

    if ((rc = web_read_json(rq->conn, &in)) != 0)
        return rc;
    if (json_check_keys(in, keys, &err) != 0 || json_get_string(in, "lang", true, &lang, &err) != 0) {
        rc = web_send_error(rq->conn, 400, "bad_request", err_msg(&err));
        goto out;
    }
    if (!lang_supported(lang)) {
        rc = web_send_error(rq->conn, 400, "bad_request", "lang must be en or fr");
        goto out;
    }
    web_session_set_lang(rq->srv->sessions, rq->session, lang);
    user_lang_set(rq, rq->session->username, lang);
    out = session_json(rq, rq->session);
    rc = web_send_json(rq->conn, 200, out);
out:
    json_decref(in);
    json_decref(out);
    return rc;
}

int web_handle_session_delete(struct web_request *rq)
{
    char cookie[160];
    json_t *out = json_pack("{s:b}", "signed_out", 1);
    int rc;

    log_info("web: %s signed out", rq->session->username);
    /* Ended now; the actor (and its unlocked key) is wiped when the
     * dispatcher releases the session at the end of this request. */
    web_session_end(rq->srv->sessions, rq->session);
    cookie_value(rq, "", cookie, sizeof cookie);
    rc = web_send_json_hdrs(rq->conn, 200, out, (const char *[]){ "Set-Cookie", cookie, NULL });
    json_decref(out);
    return rc;
}
