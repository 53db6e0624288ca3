/* civreg web: response helpers, request bodies, cookies and HTML escaping. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "core/buf.h"
#include "core/encode.h"
#include "core/json.h"
#include "core/log.h"
#include "web_int.h"

/* Pages may load scripts, styles, images and JSON from this origin only;
 * no inline script or style, no plugins, no framing, forms post home. */
#define CSP_PAGE                                                                                 \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "            \
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
#define CSP_DATA "default-src 'none'; frame-ancestors 'none'"

/* Every response: no sniffing, no framing, no referrer leaks; HTTPS is
 * sticky once used. CACHE is the Cache-Control value. */
static void add_security_headers(struct mg_connection *conn, const char *csp, const char *cache)
{
    mg_response_header_add(conn, "X-Content-Type-Options", "nosniff", -1);
    mg_response_header_add(conn, "X-Frame-Options", "DENY", -1);
    mg_response_header_add(conn, "Content-Security-Policy", csp, -1);
    mg_response_header_add(conn, "Referrer-Policy", "no-referrer", -1);
    mg_response_header_add(conn, "Cross-Origin-Opener-Policy", "same-origin", -1);
    mg_response_header_add(conn, "Cache-Control", cache, -1);
    if (mg_get_request_info(conn)->is_ssl)
        mg_response_header_add(conn, "Strict-Transport-Security", "max-age=31536000", -1);
}

static bool is_head(struct mg_connection *conn)
{
    return strcmp(mg_get_request_info(conn)->request_method, "HEAD") == 0;
}

/* The one way an answer leaves civreg: status, type, length, the security
 * headers, HDRS, then the body -- except for HEAD, which gets the same
 * headers (Content-Length included, RFC 9110 §9.3.2) and no body: bytes
 * after the headers would be read by the client as the start of the next
 * answer on a keep-alive connection. */
static void send_body(struct mg_connection *conn, int status, const char *type, const char *csp,
                      const char *cache, const char *const *hdrs, const void *p, size_t len)
{
    char lenstr[32];

    (void)snprintf(lenstr, sizeof lenstr, "%zu", len);
    mg_response_header_start(conn, status);
    mg_response_header_add(conn, "Content-Type", type, -1);
    mg_response_header_add(conn, "Content-Length", lenstr, -1);
    add_security_headers(conn, csp, cache);
    for (size_t i = 0; hdrs != NULL && hdrs[i] != NULL && hdrs[i + 1] != NULL; i += 2)
        mg_response_header_add(conn, hdrs[i], hdrs[i + 1], -1);
    mg_response_header_send(conn);
    if (!is_head(conn) && len > 0)
        mg_write(conn, p, len);
}

int web_send_json_hdrs(struct mg_connection *conn, int status, json_t *body,
                       const char *const *hdrs)
{
    struct buf out = BUF_INIT(64 * 1024 * 1024);

    if (body == NULL || json_dump_compact(body, &out, NULL) != 0 ||
        buf_append_byte(&out, '\n') != 0) {
        buf_release(&out);
        status = 500;
        hdrs = NULL;
        if (buf_append_str(&out, "{\"error\":{\"code\":\"internal\",\"message\":\"response could "
                                 "not be built\"}}\n") != 0)
            return 500;
    }
    send_body(conn, status, "application/json; charset=utf-8", CSP_DATA, "no-store", hdrs,
              out.data, out.len);
    buf_release(&out);
    return status;
}

int web_send_json(struct mg_connection *conn, int status, json_t *body)
{
    return web_send_json_hdrs(conn, status, body, NULL);
}

int web_send_error_hdr(struct mg_connection *conn, int status, const char *code,
                       const char *message, const char *hname, const char *hvalue)
{
    json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
    const char *hdrs[] = { hname, hvalue, NULL };
    int rc = web_send_json_hdrs(conn, status, body, hname ? hdrs : NULL);

    json_decref(body);
    return rc;
}

int web_send_error(struct mg_connection *conn, int status, const char *code, const char *message)
{
    return web_send_error_hdr(conn, status, code, message, NULL, NULL);
}

int web_status_of(enum err_kind kind)
{
    switch (kind) {
    case ERR_INVALID: return 422;
    case ERR_NOT_FOUND: return 404;
    case ERR_FORBIDDEN: return 403;
    case ERR_CONFLICT: return 409;
    case ERR_BUSY: return 503;
    case ERR_INTERNAL: break;
    }
    return 500;
}

/* The status of a failure of the national tier by its code (0: not one):
 * every request that asks it (the duplicate cases, enrolment) answers so,
 * and the browser shows its text for the code. */
static int national_status(const char *code)
{
    static const struct {
        const char *code;
        int status;
    } map[] = { { "national_unreachable", 502 }, { "national_refused", 502 },
                { "national_timeout", 504 } };

    for (size_t i = 0; code != NULL && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(code, map[i].code) == 0)
            return map[i].status;
    return 0;
}

int web_send_failure(struct mg_connection *conn, const struct err *err)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    enum err_kind kind = err_kind(err);
    int status = web_status_of(kind), national = national_status(err_code_of(err));
    unsigned char rnd[6];
    char ref[2 * sizeof rnd + 1], msg[96];
    json_t *body;
    int rc;

    if (national != 0) {
        log_warn("web: national tier: %s", err_msg(err));
        return web_send_error(conn, national, err_code_of(err), err_msg(err));
    }
    if (status < 500) {
        /* The code names the failure for the browser, which shows its own
         * text in the user's language; the message is the English detail. */
        const char *code = err_code_of(err);
        const char *field = err_field_of(err);
        if (code == NULL)
            code = kind == ERR_INVALID ? "rejected" : err_kind_name(kind);
        if (field[0] == '\0')
            return web_send_error(conn, status, code, err_msg(err));
        body = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", code, "message", err_msg(err),
                         "field", field);
        rc = web_send_json(conn, status, body);
        json_decref(body);
        return rc;
    }
    /* Storage and I/O details (paths, SQL, library messages) stay in the
     * log; the client gets a reference an operator finds there. */
    randombytes_buf(rnd, sizeof rnd);
    hex_encode(rnd, sizeof rnd, ref);
    log_error("web: ref %s: %s %s: %s", ref, ri ? ri->request_method : "?",
              ri && ri->local_uri ? ri->local_uri : "?", err_msg(err));
    if (kind == ERR_BUSY) {
        (void)snprintf(msg, sizeof msg, "the database is busy: try again (reference %s)", ref);
        body = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", "busy", "message", msg,
                         "reference", ref);
        const char *hdrs[] = { "Retry-After", "1", NULL };
        rc = web_send_json_hdrs(conn, status, body, hdrs);
    } else {
        (void)snprintf(msg, sizeof msg, "internal error (reference %s)", ref);
        body = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", "internal", "message", msg,
                         "reference", ref);
        rc = web_send_json(conn, status, body);
    }
    json_decref(body);
    return rc;
}

int web_send_html(struct mg_connection *conn, int status, const char *html, size_t len,
                  const char *extra_headers)
{
    (void)extra_headers;
    send_body(conn, status, "text/html; charset=utf-8", CSP_PAGE, "no-store", NULL, html, len);
    return status;
}

int web_send_redirect(struct mg_connection *conn, const char *location)
{
    const char *hdrs[] = { "Location", location, NULL };
    send_body(conn, 303, "text/plain; charset=utf-8", CSP_DATA, "no-store", hdrs, "", 0);
    return 303;
}

int web_send_asset(struct mg_connection *conn, const struct embedded_file *f, const char *type,
                   const char *etag, bool immutable)
{
    const char *inm = mg_get_header(conn, "If-None-Match");
    const char *hdrs[] = { "ETag", etag, NULL };
    const char *cache = immutable ? "public, max-age=31536000, immutable" : "no-cache";

    if (inm != NULL && strcmp(inm, etag) == 0) {
        /* RFC 9110 §15.4.5: no body, no Content-Length to describe one */
        mg_response_header_start(conn, 304);
        mg_response_header_add(conn, "ETag", etag, -1);
        add_security_headers(conn, CSP_PAGE, cache);
        mg_response_header_send(conn);
        return 304;
    }
    send_body(conn, 200, type, CSP_PAGE, cache, hdrs, f->data, f->len);
    return 200;
}

int web_send_download(struct mg_connection *conn, const char *type, const char *filename,
                      const void *p, size_t len)
{
    char disp[200], safe[128];
    const char *hdrs[] = { "Content-Disposition", disp, NULL };
    size_t n = 0;

    /* Only A-Z a-z 0-9 - . _ reach the header, whatever the name. */
    for (const char *c = filename; *c && n + 1 < sizeof safe; c++)
        safe[n++] = ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                     (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_')
                        ? *c
                        : '_';
    safe[n] = '\0';
    (void)snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", safe);
    send_body(conn, 200, type, CSP_DATA, "no-store", hdrs, p, len);
    return 200;
}

int web_body_collect(int (*read)(void *ctx, void *p, size_t n), void *ctx,
                     long long content_length, size_t max, struct buf *out)
{
    char chunk[16384];
    int n, st = 0;

    /* Refuse before reading when the client announces too much. */
    if (content_length > 0 && (unsigned long long)content_length > max)
        return 413;
    out->max = max;
    while ((n = read(ctx, chunk, sizeof chunk)) > 0)
        if (buf_append_secret(out, chunk, (size_t)n) != 0) {
            st = 413; /* chunked and over the cap; OUT already wiped */
            break;
        }
    if (st == 0 && n < 0)
        st = 400;
    if (st == 0 && content_length > 0 && out->len != (size_t)content_length)
        st = 400;
    if (st != 0)
        buf_release_secret(out);
    sodium_memzero(chunk, sizeof chunk);
    return st;
}

static int conn_read(void *ctx, void *p, size_t n)
{
    return mg_read(ctx, p, n);
}

int web_read_body(struct mg_connection *conn, size_t max, struct buf *out)
{
    return web_body_collect(conn_read, conn, mg_get_request_info(conn)->content_length, max,
                            out);
}

int web_body_json(struct buf *body, json_t **out, struct err *err)
{
    int rc = json_parse((const char *)body->data, body->len, out, err);

    buf_release_secret(body); /* may hold a password, parsed or not */
    if (rc != 0)
        return err_prefix(err, "invalid JSON");
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return err_set(err, "the body must be a JSON object");
    }
    return 0;
}

int web_read_json(struct mg_connection *conn, json_t **out)
{
    const char *ct = mg_get_header(conn, "Content-Type");
    struct buf body = BUF_INIT(WEB_MAX_JSON_BODY);
    struct err err = ERR_INIT;
    char msg[160];
    int st;

    *out = NULL;
    /* JSON only: a cross-site HTML form cannot send this content type. */
    if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] != '\0' && ct[16] != ';'))
        return web_send_error(conn, 415, "unsupported_media_type",
                              "the body must be application/json");
    st = web_read_body(conn, WEB_MAX_JSON_BODY, &body);
    if (st == 413) {
        (void)snprintf(msg, sizeof msg, "the body is larger than %u bytes", WEB_MAX_JSON_BODY);
        return web_send_error(conn, 413, "too_large", msg);
    }
    if (st != 0)
        return web_send_error(conn, 400, "bad_request", "the body could not be read");
    if (web_body_json(&body, out, &err) != 0)
        return web_send_error(conn, 400, "bad_json", err_msg(&err));
    return 0;
}

int web_cookie(const struct mg_connection *conn, const char *name, char *out, size_t size)
{
    const char *h = mg_get_header(conn, "Cookie");
    if (h == NULL || size == 0)
        return -1;
    return mg_get_cookie(h, name, out, size) >= 0 ? 0 : -1;
}

int web_form_field(const char *body, size_t len, const char *name, char *out, size_t size)
{
    if (body == NULL || size == 0)
        return -1;
    return mg_get_var(body, len, name, out, size) >= 0 ? 0 : -1;
}

int web_html_escape(struct buf *out, const char *s, size_t len)
{
    size_t run = 0;

    for (size_t i = 0; i < len; i++) {
        const char *rep;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
        if (buf_append(out, s + run, i - run) != 0 || buf_append_str(out, rep) != 0)
            return -1;
        run = i + 1;
    }
    return buf_append(out, s + run, len - run);
}
