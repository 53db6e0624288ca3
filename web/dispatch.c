/* civreg web: one entry point for every request. It finds the route, checks
 * the method, the session, the role and the CSRF token, then calls the
 * handler. Deny by default: a path that is not in the table is 404, a route
 * that names no role is refused to everyone signed in. */
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/secret.h"
#include "web_int.h"
#ifdef CIVREG_HAVE_REGISTRY
#include "registry/registry.h"
#endif

bool web_method_changes_state(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
           strcmp(method, "OPTIONS") != 0;
}

/* Does PATH match the route pattern PAT? Fills RQ's params. */
static bool path_match(const char *pat, const char *path, struct web_request *rq)
{
    size_t np = 0;

    while (*pat != '\0') {
        if (pat[0] == '*' && pat[1] == '\0')
            goto done; /* the rest, whatever it is */
        if (*pat == '{') {
            const char *close = strchr(pat, '}');
            size_t n = strcspn(path, "/");
            if (close == NULL || n == 0 || np >= WEB_MAX_PARAMS)
                return false;
            if (rq != NULL) {
                rq->params[np].p = path;
                rq->params[np].len = n;
            }
            np++;
            pat = close + 1;
            path += n;
            continue;
        }
        if (*pat != *path)
            return false;
        pat++;
        path++;
    }
    if (*path != '\0')
        return false;
done:
    if (rq != NULL)
        rq->nparams = np;
    return true;
}

const struct web_route *web_route_match(const struct web_route *table, const char *method,
                                        const char *path, struct web_request *rq, int *status,
                                        char *allow, size_t allow_size)
{
    bool path_known = false;
    size_t al = 0;

    if (allow_size > 0)
        allow[0] = '\0';
    for (const struct web_route *r = table; r->method != NULL; r++) {
        if (!path_match(r->path, path, NULL))
            continue;
        path_known = true;
        /* HEAD is answered wherever GET is. */
        if (strcmp(r->method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
            (void)path_match(r->path, path, rq);
            return r;
        }
        if (allow_size > 0 && strstr(allow, r->method) == NULL) {
            size_t ml = strlen(r->method);
            if (al + ml + 3 < allow_size) {
                if (al > 0) {
                    memcpy(allow + al, ", ", 2);
                    al += 2;
                }
                memcpy(allow + al, r->method, ml + 1);
                al += ml;
            }
        }
    }
    *status = path_known ? 405 : 404;
    return NULL;
}

unsigned web_route_roles(const struct web_route *r)
{
    if (r->action == NULL)
        return WEB_PUBLIC;
#ifdef CIVREG_HAVE_REGISTRY
    return registry_action_roles(r->action) & WEB_ROLES_ALL;
#else
    /* Without the registry there are no users: only public routes serve. */
    return 0;
#endif
}

json_t *web_actions_json(unsigned roles)
{
#ifdef CIVREG_HAVE_REGISTRY
    return registry_actions_json(roles);
#else
    (void)roles;
    return json_array();
#endif
}

int web_access_check(const struct web_route *route, const char *method, bool signed_in,
                     unsigned roles, const char *session_csrf, const char *given_csrf,
                     const char **why)
{
    *why = "ok";
    if (route->action == NULL)
        return 0;
    if (!signed_in) {
        *why = "signed_out";
        return (route->flags & WEB_PAGE) ? 303 : 401;
    }
    if ((web_route_roles(route) & roles & WEB_ROLES_ALL) == 0) {
        *why = "forbidden";
        return 403;
    }
    if (web_method_changes_state(method) && !(route->flags & WEB_NO_CSRF)) {
        if (given_csrf == NULL || session_csrf == NULL || given_csrf[0] == '\0' ||
            !secret_equal_str(given_csrf, session_csrf)) {
            *why = "csrf";
            return 403;
        }
    }
    return 0;
}

/* The CSRF token a request carries: the X-CSRF-Token header, or for HTML
 * forms a csrf_token field (the form body is read here, capped, and only
 * for form posts). */
static const char *given_csrf(struct mg_connection *conn, char *out, size_t size)
{
    const char *h = mg_get_header(conn, "X-CSRF-Token");
    const char *ct = mg_get_header(conn, "Content-Type");

    if (h != NULL)
        return h;
    if (ct != NULL && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
        struct buf body = BUF_INIT(WEB_MAX_FORM_BODY);
        int got = web_read_body(conn, WEB_MAX_FORM_BODY, &body) == 0 &&
                  web_form_field((const char *)body.data, body.len, "csrf_token", out, size) == 0;
        buf_release_secret(&body); /* form fields may hold a password */
        return got ? out : NULL;
    }
    return NULL;
}

/* The value of the last header NAME: a proxy appends its own header line
 * after any the client sent, so the last one is the proxy's. */
static const char *last_header(const struct mg_request_info *ri, const char *name)
{
    const char *v = NULL;

    for (int i = 0; i < ri->num_headers; i++)
        if (strcasecmp(ri->http_headers[i].name, name) == 0)
            v = ri->http_headers[i].value;
    return v;
}

const char *web_client_addr(const struct web_request *rq)
{
    return rq->client_addr;
}

/* Every request re-reads the signed-in user's account: a user disabled, or
 * whose roles or password changed — here or by the CLI in another process —
 * since sign-in has no session any more, and the request goes on signed out
 * (401, or the sign-in page). Returns -1 only when the database cannot tell. */
static int check_account(struct web_request *rq)
{
    struct err err = ERR_INIT;
    int rc = web_account_current(rq, rq->session->actor, &err);

    if (rc < 0) {
        log_error("web: %s %s: cannot check the account of %s: %s", rq->ri->request_method,
                  rq->path, rq->session->username, err_msg(&err));
        return -1;
    }
    if (rc > 0) {
        log_info("web: session of %s ended: %s", rq->session->username, err_msg(&err));
        web_session_end(rq->srv->sessions, rq->session);
        web_session_release(rq->srv->sessions, rq->session);
        rq->session = NULL;
    }
    return 0;
}

/* Whether a browser navigates here (Accept names text/html): it then gets
 * pages, not JSON, for the sign-in redirect and a refusal. */
static bool wants_html(struct mg_connection *conn)
{
    const char *a = mg_get_header(conn, "Accept");
    return a != NULL && strstr(a, "text/html") != NULL;
}

/* "/signin?next=<the path and query asked for>", percent-encoded, so the
 * user lands where they were going after signing in (signin.js accepts only
 * a path of this site). Plain "/signin" when it would not fit. */
static void signin_location(const struct web_request *rq, char *out, size_t size)
{
    static const char hexd[] = "0123456789ABCDEF";
    const char *parts[2] = { rq->path, rq->ri->query_string };
    size_t n;

    (void)snprintf(out, size, "/signin");
    if (strcmp(rq->path, "/") == 0 || size < 64)
        return;
    n = (size_t)snprintf(out, size, "/signin?next=");
    for (int p = 0; p < 2; p++) {
        const unsigned char *s = (const unsigned char *)parts[p];
        if (s == NULL || (p == 1 && s[0] == '\0'))
            continue;
        if (p == 1) {
            if (n + 3 >= size)
                goto too_long;
            memcpy(out + n, "%3F", 3);
            n += 3;
        }
        for (; *s; s++) {
            if (n + 3 >= size)
                goto too_long;
            if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                *s == '-' || *s == '_' || *s == '.' || *s == '~' || *s == '/') {
                out[n++] = (char)*s;
            } else {
                out[n++] = '%';
                out[n++] = hexd[*s >> 4];
                out[n++] = hexd[*s & 15];
            }
        }
    }
    out[n] = '\0';
    return;
too_long:
    (void)snprintf(out, size, "/signin");
}

int web_dispatch(struct mg_connection *conn, void *cbdata)
{
    struct web_request rq;
    char token[WEB_TOKEN_LEN + 2], allow[64], csrfbuf[WEB_TOKEN_LEN + 2];
    const char *why, *given = NULL;
    int status = 0, rc;

    memset(&rq, 0, sizeof rq);
    rq.conn = conn;
    rq.ri = mg_get_request_info(conn);
    rq.srv = cbdata;
    rq.w = web_worker_of(conn);
    rq.path = rq.ri->local_uri != NULL ? rq.ri->local_uri : "/";
    web_client_addr_resolve(&rq.srv->trusted, rq.ri->remote_addr,
                            last_header(rq.ri, "X-Forwarded-For"), rq.client_addr);

    rq.route = web_route_match(web_routes, rq.ri->request_method, rq.path, &rq, &status, allow,
                               sizeof allow);
    if (rq.route == NULL) {
        if (status == 405)
            return web_send_error_hdr(conn, 405, "method_not_allowed", "method not allowed here",
                                      "Allow", allow);
        return web_send_error(conn, 404, "not_found", "no such resource");
    }
    if (rq.route->action != NULL || (rq.route->flags & WEB_NO_CSRF)) {
        if (web_cookie(conn, "civreg_session", token, sizeof token) == 0)
            rq.session = web_session_acquire(rq.srv->sessions, token, time(NULL));
        secret_wipe(token, sizeof token);
    }
    if (rq.session != NULL && check_account(&rq) != 0) {
        web_session_release(rq.srv->sessions, rq.session);
        return web_send_error(conn, 503, "database_unavailable", "the database cannot be read");
    }
    if (rq.session != NULL && web_method_changes_state(rq.ri->request_method))
        given = given_csrf(conn, csrfbuf, sizeof csrfbuf);
    status = web_access_check(rq.route, rq.ri->request_method, rq.session != NULL,
                              rq.session ? rq.session->roles : 0,
                              rq.session ? rq.session->csrf : NULL, given, &why);
    switch (status) {
    case 0:
        rc = rq.route->handler(&rq);
        break;
    case 303:
        if (wants_html(conn)) {
            char where[1024];
            signin_location(&rq, where, sizeof where);
            rc = web_send_redirect(conn, where);
        } else {
            rc = web_send_redirect(conn, "/signin");
        }
        break;
    case 401:
        rc = web_send_error(conn, 401, "unauthenticated", "sign in first");
        break;
    default:
        if (strcmp(why, "csrf") == 0) {
            log_warn("web: %s %s refused: missing or wrong CSRF token (user %s)",
                     rq.ri->request_method, rq.path, rq.session->username);
            rc = web_send_error(conn, 403, "csrf", "missing or wrong X-CSRF-Token");
        } else if ((rq.route->flags & WEB_PAGE) && wants_html(conn)) {
            /* a screen the user's roles do not open: a page saying so */
            rc = web_render_shell_status(&rq, "forbidden", 403);
        } else {
            rc = web_send_error(conn, 403, "forbidden", "your roles do not allow this");
        }
        break;
    }
    secret_wipe(csrfbuf, sizeof csrfbuf);
    web_session_release(rq.srv->sessions, rq.session);
    return rc;
}
