/* Integration tests of the web server's security envelope, against the real
 * `civreg serve`: every route of the table signed out, security headers,
 * no inline script, asset caching, body caps and content types, hostile
 * request bodies, TLS with a self-signed certificate made by openssl. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "support/server_fixture.h"
#include "support/expect.h"
#include "support/cmocka_main.h"
#include "support/support.h"
#include "support/webtest.h"
#include "web/web_int.h"

static char *dir;
static char data[4096];
static struct test_server server;

static int setup(void **state)
{
    (void)state;
    if ((dir = tmp_data_dir("webhttp", data, sizeof data, NULL)) == NULL)
        return -1;
    return server_start(&server, data, NULL, NULL);
}

SERVER_TEARDOWN(server, dir)

/* The route's path with {params} filled and "*" made concrete. */
/* R has the header NAME, whose value is WANT. */
static void assert_header_is(const struct http_response *r, const char *name, const char *want)
{
    char h[512];

    if (http_header(r, name, h, sizeof h) != 0)
        fail_msg("no %s header", name);
    assert_string_equal(h, want);
}

static const char *any_id(const char *pat, const char *param, void *ctx)
{
    (void)pat, (void)param, (void)ctx;
    return "X-1";
}

/* Signed out, only sign-in, the seal check, static assets and /healthz answer: every other
 * route of the table is 401 (API) or 303 to /signin (pages). */
static void test_signed_out_matrix(void **state)
{
    struct http_response r;
    char path[256], h[256], code[64];
    (void)state;

    for (const struct web_route *rt = web_routes; rt->method != NULL; rt++) {
        route_path(rt->path, path, sizeof path, any_id, NULL);
        assert_int_equal(http_request(server.port, rt->method, path, NULL, NULL, 0, &r), 0);
        if (rt->action == NULL) {
            if (rt->handler == web_handle_session_create || rt->handler == web_api_seal_verify)
                assert_int_equal(r.status, 415); /* no JSON body / no image or text */
            else
                assert_int_equal(r.status, 200);
        } else if (rt->flags & WEB_PAGE) {
            assert_int_equal(r.status, 303);
            assert_header_is(&r, "Location", "/signin");
        } else {
            assert_int_equal(r.status, 401);
            assert_string_equal(http_error_code(&r, code, sizeof code), "unauthenticated");
        }
        /* Every answer carries the security headers. */
        assert_int_equal(http_header(&r, "X-Content-Type-Options", h, sizeof h), 0);
        assert_int_equal(http_header(&r, "Content-Security-Policy", h, sizeof h), 0);
        assert_non_null(strstr(h, "frame-ancestors 'none'"));
        assert_int_equal(http_header(&r, "Referrer-Policy", h, sizeof h), 0);
        http_response_free(&r);
    }
    /* A forged, random or malformed session cookie is the same as none. */
    const char *cookies[] = {
        "Cookie: civreg_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
        "Cookie: civreg_session=' OR 1=1 --\r\n",
        "Cookie: civreg_session=\r\n",
    };
    for (size_t i = 0; i < sizeof cookies / sizeof cookies[0]; i++) {
        http_expect(server.port, "GET", "/api/v1/session", cookies[i], NULL, 0, 401, NULL);
        http_expect(server.port, "DELETE", "/api/v1/session", cookies[i], NULL, 0, 401, NULL);
    }
    /* Deny by default: paths outside the table. */
    const char *unknown[] = { "/admin", "/api/v1/", "/api/v2/session", "/static", "/..%2fetc/passwd",
                              "/api/v1/session/../openapi.json" };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_int_equal(http_request(server.port, "GET", unknown[i], NULL, NULL, 0, &r), 0);
        assert_true(r.status == 404 || r.status == 401 || r.status == 400);
        assert_true(r.status != 200);
        http_response_free(&r);
    }
    /* Wrong method on a known path: 405 with Allow. */
    assert_int_equal(http_request(server.port, "PUT", "/api/v1/session", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 405);
    assert_int_equal(http_header(&r, "Allow", h, sizeof h), 0);
    assert_non_null(strstr(h, "POST"));
    assert_non_null(strstr(h, "DELETE"));
    http_response_free(&r);
}

/* Pages: a strict CSP without inline script, and no inline script in the
 * HTML either; the values placed in the shell are escaped. */
static void test_page_and_assets(void **state)
{
    struct http_response r, a;
    char h[512], src[256], etag[128], hdr[256];
    (void)state;

    assert_int_equal(http_request(server.port, "GET", "/signin", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_header_is(&r, "Content-Type", "text/html; charset=utf-8");
    assert_int_equal(http_header(&r, "Content-Security-Policy", h, sizeof h), 0);
    assert_non_null(strstr(h, "script-src 'self'"));
    assert_non_null(strstr(h, "default-src 'none'"));
    assert_null(strstr(h, "unsafe-inline"));
    assert_null(strstr(h, "unsafe-eval"));
    assert_header_is(&r, "Cache-Control", "no-store");
    assert_true(r.body_len < 200 * 1024);
    /* Every <script> loads a file; no inline event handlers. */
    size_t scripts = 0;
    for (const char *p = strstr(r.body, "<script"); p; p = strstr(p + 1, "<script")) {
        const char *end = strchr(p, '>');
        assert_non_null(end);
        const char *s = strstr(p, " src=\"");
        assert_true(s != NULL && s < end);
        const char *close = strstr(end, "</script>");
        assert_ptr_equal(close, end + 1);
        scripts++;
    }
    assert_int_equal(scripts, 1);
    assert_null(strstr(r.body, " onload="));
    assert_null(strstr(r.body, " onclick="));
    assert_null(strstr(r.body, "{{"));

    /* The fingerprinted script: long-lived caching; the plain path:
     * revalidation with an ETag, 304 when unchanged. */
    const char *p = strstr(r.body, "<script type=\"module\" src=\"");
    assert_non_null(p);
    p += strlen("<script type=\"module\" src=\"");
    size_t n = strcspn(p, "\"");
    assert_true(n < sizeof src);
    memcpy(src, p, n);
    src[n] = '\0';
    assert_int_equal(strncmp(src, "/static/", 8), 0);
    assert_int_equal(http_request(server.port, "GET", src, NULL, NULL, 0, &a), 0);
    assert_int_equal(a.status, 200);
    assert_header_is(&a, "Content-Type", "text/javascript; charset=utf-8");
    assert_int_equal(http_header(&a, "Cache-Control", h, sizeof h), 0);
    assert_non_null(strstr(h, "immutable"));
    assert_non_null(strstr(h, "max-age=31536000"));
    http_response_free(&a);
    http_response_free(&r);

    assert_int_equal(http_request(server.port, "GET", "/static/css/app.css", NULL, NULL, 0, &a), 0);
    assert_int_equal(a.status, 200);
    assert_header_is(&a, "Content-Type", "text/css; charset=utf-8");
    assert_header_is(&a, "Cache-Control", "no-cache");
    assert_int_equal(http_header(&a, "ETag", etag, sizeof etag), 0);
    http_response_free(&a);
    snprintf(hdr, sizeof hdr, "If-None-Match: %s\r\n", etag);
    assert_int_equal(http_request(server.port, "GET", "/static/css/app.css", hdr, NULL, 0, &a), 0);
    assert_int_equal(a.status, 304);
    assert_int_equal(a.body_len, 0);
    http_response_free(&a);
    /* A fingerprint that is not the current one: served, but revalidated. */
    assert_int_equal(http_request(server.port, "GET", "/static/0000000000000000/css/app.css", NULL, NULL,
                                  0, &a), 0);
    assert_int_equal(a.status, 200);
    assert_header_is(&a, "Cache-Control", "no-cache");
    http_response_free(&a);
    assert_int_equal(http_request(server.port, "GET", "/static/i18n/fr.json", NULL, NULL, 0, &a), 0);
    assert_int_equal(a.status, 200);
    assert_non_null(strstr(a.body, "Se connecter"));
    http_response_free(&a);
}

/* Sign-in bodies: JSON only, capped, strict; hostile input is refused with
 * a clear 4xx, never a crash. */
static void test_signin_bodies(void **state)
{
    struct http_response r;
    char code[64];
    const char *json = "Content-Type: application/json\r\n";
    (void)state;

    /* A cross-site form cannot post JSON: other content types are refused. */
    http_expect(server.port, "POST", "/api/v1/session", "Content-Type: application/x-www-form-urlencoded\r\n", "username=a&password=b", 21, 415, NULL);
    http_expect(server.port, "POST", "/api/v1/session", "Content-Type: text/plain\r\n", "{}", 2, 415, NULL);

    struct {
        const char *body;
        int status;
        const char *code;
    } cases[] = {
        { "", 400, "bad_json" },
        { "{", 400, "bad_json" },
        { "[]", 400, "bad_json" },
        { "{\"username\":\"a\"}", 400, "bad_request" },
        { "{\"username\":1,\"password\":\"x\"}", 400, "bad_request" },
        { "{\"username\":\"a\",\"password\":\"b\",\"admin\":true}", 400, "bad_request" },
        { "{\"username\":\"a\",\"username\":\"b\",\"password\":\"c\"}", 400, "bad_json" },
        { "{\"username\":\"\",\"password\":\"b\"}", 400, "bad_request" },
        { "{\"username\":\"a\",\"password\":\"b\",\"lang\":\"xx\"}", 400, "bad_request" },
        { "{\"username\":\"\xff\xfe\",\"password\":\"b\"}", 400, "bad_json" },
        { "{\"username\":\"a\\u0000b\",\"password\":\"b\"}", 400, "bad_json" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(http_request(server.port, "POST", "/api/v1/session", json, cases[i].body,
                                      strlen(cases[i].body), &r), 0);
        if (r.status != cases[i].status)
            fail_msg("case %zu (%s): status %d body %s", i, cases[i].body, r.status, r.body);
        assert_string_equal(http_error_code(&r, code, sizeof code), cases[i].code);
        http_response_free(&r);
    }
    /* A name of 100 KB: refused by length, not stored, not echoed. */
    size_t big = 100 * 1024;
    char *b = malloc(big + 64);
    assert_non_null(b);
    int n = snprintf(b, 64, "{\"username\":\"");
    memset(b + n, 'x', big);
    memcpy(b + n + big, "\",\"password\":\"p\"}", 18);
    assert_int_equal(http_request(server.port, "POST", "/api/v1/session", json, b, strlen(b), &r), 0);
    assert_int_equal(r.status, 400);
    assert_true(r.body_len < 512);
    http_response_free(&r);
    free(b);
    /* Over the 2 MB cap as announced by Content-Length: 413 before reading. */
    big = 3 * 1024 * 1024;
    b = malloc(big);
    assert_non_null(b);
    memset(b, ' ', big);
    b[0] = '{';
    b[big - 1] = '}';
    if (http_request(server.port, "POST", "/api/v1/session", json, b, big, &r) == 0) {
        assert_int_equal(r.status, 413);
        assert_string_equal(http_error_code(&r, code, sizeof code), "too_large");
        http_response_free(&r);
    }
    free(b);
    /* The server is still fine. */
    http_expect(server.port, "GET", "/healthz", NULL, NULL, 0, 200, NULL);
}

/* HTTPS with a self-signed certificate made here by openssl; Secure
 * transport headers; a key that does not match refuses to start. */
static void test_tls(void **state)
{
    char cert[4200], key[4200], key2[4200], url[128], port_s[16];
    struct proc_result pr;
    struct test_server tls;
    int tport;
    (void)state;

    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(key2, sizeof key2, "%s/key2.pem", dir);
    const char *req[] = { "/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                          "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                          "subjectAltName=IP:127.0.0.1", NULL };
    assert_int_equal(proc_run((char *const *)req, NULL, 0, 60, &pr), 0);
    assert_int_equal(pr.status, 0);
    proc_result_free(&pr);

    /* One without the other: usage error. */
    assert_int_equal(civreg_run(NULL, &pr, (const char *[]){ "serve", "--data", data,
                                                             "--tls-cert", cert, NULL }),
                     0);
    assert_int_equal(pr.status, 2);
    proc_result_free(&pr);

    /* Debian 12's CivetWeb 1.15 with OpenSSL 3 needs the compatibility
     * object of web/tls_compat/; with it, TLS must work (several requests,
     * since the old CivetWeb crashed on the first one). */
    assert_int_equal(server_start(&tls, data,
                                  (const char *[]){ "--tls-cert", cert, "--tls-key", key, NULL },
                                  NULL),
                     0);
    tport = tls.port;
    snprintf(url, sizeof url, "https://127.0.0.1:%d/healthz", tport);
    const char *curl[] = { "/usr/bin/curl", "-sS", "-i", "--cacert", cert, url, NULL };
    assert_int_equal(proc_run((char *const *)curl, NULL, 0, 30, &pr), 0);
    assert_int_equal(pr.status, 0);
    assert_non_null(strstr(pr.out, "HTTP/1.1 200"));
    assert_non_null(strstr(pr.out, "\"status\":\"ok\""));
    assert_non_null(strstr(pr.out, "Strict-Transport-Security: max-age="));
    proc_result_free(&pr);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(proc_run((char *const *)curl, NULL, 0, 30, &pr), 0);
        assert_int_equal(pr.status, 0);
        assert_non_null(strstr(pr.out, "HTTP/1.1 200"));
        proc_result_free(&pr);
    }
    /* Plain HTTP to the TLS server.port gets no answer from the application. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", tport);
    const char *plain[] = { "/usr/bin/curl", "-sS", "-m", "10", url, NULL };
    assert_int_equal(proc_run((char *const *)plain, NULL, 0, 30, &pr), 0);
    assert_null(strstr(pr.out, "\"status\":\"ok\""));
    proc_result_free(&pr);
    assert_int_equal(server_end(&tls, SIGTERM), 0);

    /* Wrong key for the certificate: a clear error, exit 1. */
    const char *req2[] = { "/usr/bin/openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                           "ec_paramgen_curve:P-256", "-out", key2, NULL };
    assert_int_equal(proc_run((char *const *)req2, NULL, 0, 60, &pr), 0);
    assert_int_equal(pr.status, 0);
    proc_result_free(&pr);
    assert_int_equal(civreg_run(NULL, &pr, (const char *[]){ "serve", "--data", data, "--listen",
                                                             "127.0.0.1:0", "--tls-cert", cert,
                                                             "--tls-key", key2, NULL }),
                     0);
    assert_int_equal(pr.status, 1);
    assert_non_null(strstr(pr.err, "TLS"));
    proc_result_free(&pr);
    (void)port_s;
}

CMOCKA_MAIN_WITH((.group = "web_http", .group_setup = setup, .group_teardown = teardown),
                 test_signed_out_matrix, test_page_and_assets, test_signin_bodies, test_tls)
