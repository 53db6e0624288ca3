/* Integration tests with real users (a `serve --demo` office): every route
 * × every role and signed out → the expected status; CSRF refusals that
 * change nothing; sign-in throttling; hostile input stored faithfully or
 * refused with a clear 4xx. Built only with the registry module. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "registry/registry.h"
#include "core/encode.h"
#include "support/server_fixture.h"
#include "support/expect.h"
#include "support/cmocka_main.h"
#include "support/support.h"
#include "support/webtest.h"
#include "../../bench/loopback.h"
#include "web/web.h"
#include "web/web_int.h"

static char *dir;
static char data[4096];
static struct test_server server;

static struct demo_login logins[16];
static size_t nlogins;

/* Ids from the demo data for the {params} of routes. */
static char rec_id[128], uin[32];
/* A volume and a page imported through the web in setup. */
static char vol_id[64], vol_path[96], page_id[128];

/* civreg_session=TOKEN; Path=/; HttpOnly; SameSite=Strict */
static void assert_session_cookie(const struct test_session *s)
{
    assert_non_null(strstr(s->set_cookie, "HttpOnly"));
    assert_non_null(strstr(s->set_cookie, "SameSite=Strict"));
    assert_non_null(strstr(s->set_cookie, "Path=/"));
    assert_int_equal(strlen(s->cookie), strlen("Cookie: civreg_session=\r\n") + WEB_TOKEN_LEN);
}

static int sign_in(const char *user, const char *password, struct demo_login *l)
{
    int st = web_sign_in(server.port, user, password, NULL, &l->s);

    if (st != 200)
        return st;
    assert_session_cookie(&l->s);
    l->user = user;
    return 0;
}

/* Upload FILES (paths, NULL-terminated) as one batch with L's session and
 * import it; returns the import's status, its JSON in *OUT (may be NULL). */
static int scan_batch(const struct demo_login *l, const char *const *files, json_t **out)
{
    struct http_response r;
    char hdr[512], path[160], id[64];
    int st;

    if (web_create(server.port, &l->s, "/api/v1/scan-batches", "{}", id, sizeof id) != 201)
        return -1;
    for (const char *const *f = files; *f != NULL; f++) {
        size_t len;
        char *bytes = file_read(*f, &len);
        const char *base = strrchr(*f, '/');
        if (bytes == NULL)
            return -1;
        snprintf(hdr, sizeof hdr, "%sX-CSRF-Token: %s\r\nContent-Type: image/png\r\n"
                 "X-File-Name: %.100s\r\n", l->s.cookie, l->s.csrf, base ? base + 1 : *f);
        snprintf(path, sizeof path, "/api/v1/scan-batches/%s/files", id);
        st = http_request(server.port, "POST", path, hdr, bytes, len, &r);
        free(bytes);
        if (st != 0 || r.status != 201)
            return -1;
        http_response_free(&r);
    }
    snprintf(hdr, sizeof hdr, "%sX-CSRF-Token: %s\r\nContent-Type: application/json\r\n",
             l->s.cookie, l->s.csrf);
    snprintf(path, sizeof path, "/api/v1/scan-batches/%s/import", id);
    if (http_request(server.port, "POST", path, hdr, "{}", 2, &r) != 0)
        return -1;
    st = r.status;
    if (out != NULL)
        *out = http_body_json(&r);
    http_response_free(&r);
    return st;
}

/* A separator sheet for DEMO/1987/3 (printed by civreg, rasterized by
 * poppler's pdftoppm as a scanner would) and the demo register page,
 * uploaded and imported by the clerk: a volume with one page. */
static int scan_setup(void)
{
    char pdf[4200], png[4200], stem[4200], page[4200];
    struct proc_result pr;
    struct http_response r;
    json_t *j, *p;
    size_t i;
    int st;

    snprintf(pdf, sizeof pdf, "%s/sep.pdf", dir);
    snprintf(stem, sizeof stem, "%s/sep", dir);
    snprintf(png, sizeof png, "%s/sep.png", dir);
    snprintf(page, sizeof page, "%s/web/demo/register-page.png", CIVREG_SOURCE_DIR);
    const char *sep_args[] = { "scan", "separator", "--office", "DEMO", "--year", "1987",
                               "--volume", "3", "--out", pdf, NULL };
    if (civreg_run(NULL, &pr, sep_args) != 0 || pr.status != 0)
        return -1;
    proc_result_free(&pr);
    char *const ppm[] = { "/usr/bin/pdftoppm", "-r", "150", "-png", "-singlefile", pdf, stem,
                          NULL };
    if (proc_run(ppm, NULL, 0, 60, &pr) != 0 || pr.status != 0)
        return -1;
    proc_result_free(&pr);
    const char *files[] = { png, page, NULL };
    const struct demo_login *clerk = NULL;
    for (i = 0; i < nlogins; i++)
        if (strcmp(logins[i].user, "clerk") == 0)
            clerk = &logins[i];
    if (clerk == NULL)
        return -1;
    st = scan_batch(clerk, files, &j);
    if (st != 200 || json_integer_value(json_object_get(j, "pages_added")) != 2 ||
        json_integer_value(json_object_get(j, "separators")) != 1)
        return -1;
    json_decref(j);
    snprintf(vol_id, sizeof vol_id, "DEMO|1987|3");
    snprintf(vol_path, sizeof vol_path, "DEMO%%7C1987%%7C3");
    if (http_request(server.port, "GET", "/api/v1/volumes/DEMO%7C1987%7C3/pages", clerk->s.cookie,
                     NULL, 0, &r) != 0 || r.status != 200)
        return -1;
    j = http_body_json(&r);
    http_response_free(&r);
    json_array_foreach(json_object_get(j, "pages"), i, p)
        if (!json_is_true(json_object_get(p, "separator")))
            snprintf(page_id, sizeof page_id, "%s", json_string_value(json_object_get(p, "id")));
    json_decref(j);
    return page_id[0] ? 0 : -1;
}

static int setup(void **state)
{
    char line[512];
    struct http_response r;
    json_t *j;
    (void)state;

    if (server_start_demo(&server, "webaccess", &dir, data, sizeof data) != 0)
        return -1;
    /* The demo sign-ins are printed at start-up. */
    if (proc_read_line(server.out_fd, line, sizeof line, 30) != 0 || strstr(line, "demo sign-ins") == NULL ||
        strstr(line, "\"demo\"") == NULL)
        return -1;
    for (const struct web_demo_user *u = web_demo_users; u->username != NULL; u++)
        if (strstr(line, u->username) == NULL)
            return -1;
    if (demo_sign_in_all(server.port, logins, sizeof logins / sizeof logins[0], &nlogins) != 0)
        return -1;
    for (size_t i = 0; i < nlogins; i++)
        assert_session_cookie(&logins[i].s);
    /* A registered record of the demo data for {id} and {uin}. */
    if (http_request(server.port, "GET", "/api/v1/records?status=registered&limit=1", logins[1].s.cookie,
                     NULL, 0, &r) != 0 || r.status != 200)
        return -1;
    j = http_body_json(&r);
    json_t *row = json_array_get(json_object_get(j, "records"), 0);
    snprintf(rec_id, sizeof rec_id, "%s", json_string_value(json_object_get(row, "id")));
    snprintf(uin, sizeof uin, "%s", json_string_value(json_object_get(row, "uin")));
    json_decref(j);
    http_response_free(&r);
    return rec_id[0] && uin[0] && scan_setup() == 0 ? 0 : -1;
}

SERVER_TEARDOWN(server, dir)

/* The demo data's ids for the {params} of the route pattern PAT. */
static const char *param_value(const char *pat, const char *p, void *ctx)
{
    /* The passport office's ids (applications, document numbers, booklet
     * serials) name nothing in the demo office. */
    bool office = strstr(pat, "/applications/") != NULL || strstr(pat, "/documents/") != NULL ||
                  strstr(pat, "/booklets/") != NULL;
    (void)ctx;
    return strncmp(p, "{uin}", 5) == 0                        ? uin
           : strncmp(p, "{kind}", 6) == 0                     ? "preview"
           : strncmp(pat, "/api/v1/scan-batches/", 21) == 0   ? "nobody-here"
           : strstr(pat, "volumes/{id}") != NULL              ? vol_path
           : strstr(pat, "pages/{id}") != NULL                ? page_id
           : strncmp(p, "{hash}", 6) == 0
               ? "0000000000000000000000000000000000000000000000000000000000000000"
           : strncmp(p, "{username}", 10) == 0 || office ? "nobody-here"
                                                         : rec_id;
}

static void concrete_path(const char *pat, char *out, size_t size)
{
    route_path(pat, out, size, param_value, NULL);
}

/* Every route × signed out and every demo user. Allowed requests must get
 * past the access check (their handler answers, whatever its verdict on
 * the deliberately empty body); refused ones get exactly 401/303/403. State-
 * changing requests carry the right CSRF token and an empty JSON object, so
 * nothing is actually changed. */
static void test_access_matrix(void **state)
{
    struct http_response r;
    char path[512], hdr[512], code[64];
    size_t checked = 0;
    (void)state;

    for (const struct web_route *rt = web_routes; rt->method != NULL; rt++) {
        bool changes = web_method_changes_state(rt->method);
        /* Sign-out would end the session the rest of the matrix uses. */
        if (strcmp(rt->method, "DELETE") == 0 && strcmp(rt->path, "/api/v1/session") == 0)
            continue;
        concrete_path(rt->path, path, sizeof path);
        /* Signed out. */
        assert_int_equal(http_request(server.port, rt->method, path,
                                      changes ? "Content-Type: application/json\r\n" : NULL,
                                      changes ? "{}" : NULL, changes ? 2 : 0, &r), 0);
        if (rt->action == NULL)
            assert_true(r.status != 401 && r.status != 403 && r.status != 303);
        else
            assert_int_equal(r.status, (rt->flags & WEB_PAGE) ? 303 : 401);
        http_response_free(&r);
        for (size_t i = 0; i < nlogins; i++) {
            bool allowed = rt->action == NULL || (web_route_roles(rt) & logins[i].roles) != 0;
            snprintf(hdr, sizeof hdr, "%sX-CSRF-Token: %s\r\nContent-Type: application/json\r\n",
                     logins[i].s.cookie, logins[i].s.csrf);
            assert_int_equal(http_request(server.port, rt->method, path, hdr, changes ? "{}" : NULL,
                                          changes ? 2 : 0, &r), 0);
            http_error_code(&r, code, sizeof code);
            if (!allowed) {
                if (r.status != 403 || strcmp(code, "forbidden") != 0)
                    fail_msg("%s %s as %s: want 403 forbidden, got %d %s", rt->method, path,
                             logins[i].user, r.status, r.body);
            } else {
                if (r.status == 401 || r.status == 303 ||
                    (r.status == 403 && strcmp(code, "forbidden") == 0) ||
                    strcmp(code, "csrf") == 0)
                    fail_msg("%s %s as %s: want access, got %d %s", rt->method, path,
                             logins[i].user, r.status, r.body);
                /* Reads of existing things succeed outright; the national
                 * tier's (503 national_unconfigured in the demo office) are
                 * tested against a real one in test_national_web. */
                if (!changes && strstr(path, "nobody-here") == NULL &&
                    strstr(path, "000000000000") == NULL && strstr(path, "/audit") == NULL &&
                    strncmp(path, "/api/v1/national/", 17) != 0)
                    if (r.status != 200)
                        fail_msg("%s %s as %s: want 200, got %d %s", rt->method, path,
                                 logins[i].user, r.status, r.body);
            }
            http_response_free(&r);
            checked++;
        }
    }
    assert_true(checked > 100);

    /* The served OpenAPI document is the one generated from this table. */
    assert_int_equal(http_request(server.port, "GET", "/api/v1/openapi.json", logins[0].s.cookie, NULL, 0,
                                  &r), 0);
    assert_int_equal(r.status, 200);
    json_t *served, *built = web_openapi(web_routes);
    served = http_body_json(&r);
    assert_non_null(served);
    assert_true(json_equal(served, built));
    json_decref(served);
    json_decref(built);
    http_response_free(&r);
}

/* The JSON body of GET PATH as L (which must answer 200); caller decrefs. */
static json_t *get_json(const struct demo_login *l, const char *path)
{
    struct http_response r;
    json_t *j;
    assert_int_equal(http_request(server.port, "GET", path, l->s.cookie, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    j = http_body_json(&r);
    http_response_free(&r);
    return j;
}

/* The length of the array FIELD of GET PATH as L (which must answer 200). */
static size_t list_size(const struct demo_login *l, const char *path, const char *field)
{
    json_t *j = get_json(l, path);
    size_t n = json_array_size(json_object_get(j, field));
    json_decref(j);
    return n;
}

static size_t count_records(const struct demo_login *l)
{
    return list_size(l, "/api/v1/records?limit=500", "records");
}

static struct demo_login *login_of(const char *user)
{
    for (size_t i = 0; i < nlogins; i++)
        if (strcmp(logins[i].user, user) == 0)
            return &logins[i];
    fail_msg("no login %s", user);
    return NULL;
}

/* A state-changing request without the CSRF token, with another session's
 * token, or with a forged one is refused and changes nothing. */
static void test_csrf(void **state)
{
    struct demo_login *clerk = login_of("clerk"), *clerk2 = login_of("clerk2");
    struct http_response r;
    char hdr[512], *body;
    json_t *ex;
    size_t before = count_records(clerk);
    (void)state;

    assert_int_equal(http_request(server.port, "GET", "/api/v1/records/example", clerk->s.cookie, NULL, 0,
                                  &r), 0);
    ex = http_body_json(&r);
    http_response_free(&r);
    json_t *req = json_pack("{s:O}", "record", ex);
    body = json_dumps(req, JSON_COMPACT);

    const char *tokens[] = { NULL, clerk2->s.csrf, "", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" };
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        if (tokens[i])
            snprintf(hdr, sizeof hdr, "%sX-CSRF-Token: %s\r\nContent-Type: application/json\r\n",
                     clerk->s.cookie, tokens[i]);
        else
            snprintf(hdr, sizeof hdr, "%sContent-Type: application/json\r\n", clerk->s.cookie);
        http_expect(server.port, "POST", "/api/v1/records", hdr, body, strlen(body), 403, "csrf");
    }
    /* A form post carrying another session's token in the body: refused. */
    char form[256];
    snprintf(form, sizeof form, "csrf_token=%s", clerk2->s.csrf);
    snprintf(hdr, sizeof hdr, "%sContent-Type: application/x-www-form-urlencoded\r\n", clerk->s.cookie);
    http_expect(server.port, "POST", "/api/v1/records", hdr, form, strlen(form), 403, NULL);
    assert_int_equal(count_records(clerk), before);

    /* Sign-out with another session's token: refused, the session lives. */
    snprintf(hdr, sizeof hdr, "%sX-CSRF-Token: %s\r\n", clerk->s.cookie, clerk2->s.csrf);
    http_expect(server.port, "DELETE", "/api/v1/session", hdr, NULL, 0, 403, NULL);
    http_expect(server.port, "GET", "/api/v1/session", clerk->s.cookie, NULL, 0, 200, NULL);

    /* With its own token the same draft goes through: one more record. */
    snprintf(hdr, sizeof hdr, "%sX-CSRF-Token: %s\r\nContent-Type: application/json\r\n",
             clerk->s.cookie, clerk->s.csrf);
    http_expect(server.port, "POST", "/api/v1/records", hdr, body, strlen(body), 201, NULL);
    assert_int_equal(count_records(clerk), before + 1);
    free(body);
    json_decref(req);
    json_decref(ex);
}

/* Draft a record whose child's given name is NAME; returns the status and
 * the id (when created) in ID. */
static int draft_named(const struct demo_login *l, const char *name_json, char *id, size_t idsize,
                       char *err_code)
{
    struct http_response r;
    json_t *ex, *j;
    int st;

    assert_int_equal(http_request(server.port, "GET", "/api/v1/records/example", l->s.cookie, NULL, 0, &r),
                     0);
    ex = http_body_json(&r);
    http_response_free(&r);
    /* Splice the raw JSON text of the name in, so invalid UTF-8 reaches the
     * server as bytes. */
    json_object_set_new(json_object_get(ex, "child"), "given_names", json_string("@@NAME@@"));
    json_t *req = json_pack("{s:o}", "record", ex);
    char *tpl = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    char *at = strstr(tpl, "\"@@NAME@@\"");
    size_t nl = strlen(name_json), tl = strlen(tpl);
    char *body = malloc(tl + nl + 1);
    memcpy(body, tpl, (size_t)(at - tpl));
    memcpy(body + (at - tpl), name_json, nl);
    const char *rest = at + strlen("\"@@NAME@@\"");
    memcpy(body + (at - tpl) + nl, rest, strlen(rest) + 1);
    assert_int_equal(session_request(server.port, &l->s, "POST", "/api/v1/records", body, &r), 0);
    st = r.status;
    http_error_code(&r, err_code, 64);
    if (st == 201) {
        j = http_body_json(&r);
        snprintf(id, idsize, "%s", json_string_value(json_object_get(j, "id")));
        json_decref(j);
    }
    http_response_free(&r);
    free(body);
    free(tpl);
    return st;
}

/* Hostile input is stored faithfully or refused with a clear 4xx. */
static void test_hostile_input(void **state)
{
    struct demo_login *clerk = login_of("clerk");
    struct http_response r;
    char id[128], path[256], code[64];
    (void)state;

    const char *faithful[] = {
        "Robert'); DROP TABLE birth_records;--",
        "\" OR 1=1 --",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "عبد الله بن محمد",
        "Zoë Ñúñez-Ødegård",
    };
    for (size_t i = 0; i < sizeof faithful / sizeof faithful[0]; i++) {
        json_t *s = json_string(faithful[i]);
        char *js = json_dumps(s, JSON_ENCODE_ANY);
        int st = draft_named(clerk, js, id, sizeof id, code);
        printf("hostile name %s -> %d %s\n", faithful[i], st, code);
        if (st == 201) {
            snprintf(path, sizeof path, "/api/v1/records/%s", id);
            assert_int_equal(http_request(server.port, "GET", path, clerk->s.cookie, NULL, 0, &r), 0);
            assert_int_equal(r.status, 200);
            json_t *j;
            j = http_body_json(&r);
            const char *back = json_string_value(json_object_get(
                json_object_get(json_object_get(j, "record"), "child"), "given_names"));
            assert_non_null(back);
            assert_string_equal(back, faithful[i]);
            /* JSON answers are never sniffed as HTML. */
            char h[128];
            assert_int_equal(http_header(&r, "Content-Type", h, sizeof h), 0);
            assert_string_equal(h, "application/json; charset=utf-8");
            json_decref(j);
            http_response_free(&r);
        } else {
            if (st < 400 || st >= 500 || code[0] == '\0')
                fail_msg("name %s: status %d code '%s'", faithful[i], st, code);
        }
        free(js);
        json_decref(s);
    }
    /* Invalid UTF-8: refused by the JSON parser, 400 bad_json. */
    assert_int_equal(draft_named(clerk, "\"abc\xff\xfe\"", id, sizeof id, code), 400);
    assert_string_equal(code, "bad_json");
    assert_int_equal(draft_named(clerk, "\"\xc0\xaf\"", id, sizeof id, code), 400);
    /* A 1 MB name: refused with a clear 4xx naming the problem. */
    size_t big = 1024 * 1024;
    char *name = malloc(big + 3);
    name[0] = '"';
    memset(name + 1, 'A', big);
    name[big + 1] = '"';
    name[big + 2] = '\0';
    int st = draft_named(clerk, name, id, sizeof id, code);
    printf("1 MB name -> %d %s\n", st, code);
    assert_true(st >= 400 && st < 500);
    assert_true(code[0] != '\0');
    free(name);
    /* The server is still fine. */
    http_expect(server.port, "GET", "/healthz", NULL, NULL, 0, 200, NULL);
}

/* Failed sign-ins are throttled per user: 429 with Retry-After, even for
 * the right password, while locked. */
static void test_throttle(void **state)
{
    struct http_response r;
    struct demo_login l;
    char h[32];
    (void)state;

    for (int i = 0; i < 5; i++)
        assert_int_equal(sign_in("operator", "wrong-password", &l), 401);
    assert_int_equal(sign_in("operator", WEB_DEMO_PASSWORD, &l), 429);
    const char *body = "{\"username\":\"operator\",\"password\":\"demo\"}";
    assert_int_equal(http_request(server.port, "POST", "/api/v1/session",
                                  "Content-Type: application/json\r\n", body, strlen(body), &r),
                     0);
    assert_int_equal(r.status, 429);
    assert_int_equal(http_header(&r, "Retry-After", h, sizeof h), 0);
    long secs = strtol(h, NULL, 10);
    assert_true(secs > 0 && secs <= 30);
    http_response_free(&r);
    /* Unknown users get the same answer as wrong passwords. */
    assert_int_equal(sign_in("no-such-user", "whatever-it-is", &l), 401);
    /* Other users are not locked out. */
    assert_int_equal(sign_in("approver", WEB_DEMO_PASSWORD, &l), 0);
}

/* Sign-out ends the session server-side: the old cookie is refused. */
static void test_sign_out(void **state)
{
    struct demo_login l;
    char hdr[512];
    (void)state;

    assert_int_equal(sign_in("enrol", WEB_DEMO_PASSWORD, &l), 0);
    /* Signing in again from the same browser ends the old session. */
    struct demo_login again;
    const char *body = "{\"username\":\"enrol\",\"password\":\"demo\"}";
    snprintf(hdr, sizeof hdr, "%sContent-Type: application/json\r\n", l.s.cookie);
    http_expect(server.port, "POST", "/api/v1/session", hdr, body, strlen(body), 200, NULL);
    http_expect(server.port, "GET", "/api/v1/session", l.s.cookie, NULL, 0, 401, NULL);
    assert_int_equal(sign_in("enrol", WEB_DEMO_PASSWORD, &again), 0);
    l = again;
    snprintf(hdr, sizeof hdr, "%sX-CSRF-Token: %s\r\n", l.s.cookie, l.s.csrf);
    http_expect(server.port, "DELETE", "/api/v1/session", hdr, NULL, 0, 200, NULL);
    http_expect(server.port, "GET", "/api/v1/session", l.s.cookie, NULL, 0, 401, NULL);
    http_expect(server.port, "GET", "/", l.s.cookie, NULL, 0, 303, NULL);
}

static int post_json(const struct demo_login *l, const char *path, const char *body,
                     struct http_response *r)
{
    return session_request(server.port, &l->s, "POST", path, body, r);
}

/* The language chosen at sign-in or changed later is remembered for the
 * user, whatever browser they sign in from next. */
static void test_language_per_user(void **state)
{
    struct http_response r;
    struct demo_login l;
    char hdr[512];
    const char *fr = "{\"username\":\"approver\",\"password\":\"demo\",\"lang\":\"fr\"}";
    (void)state;

    assert_int_equal(http_request(server.port, "POST", "/api/v1/session",
                                  "Content-Type: application/json\r\n", fr, strlen(fr), &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"lang\":\"fr\""));
    http_response_free(&r);
    /* A new session without a choice: French, and the page says so. */
    assert_int_equal(sign_in("approver", WEB_DEMO_PASSWORD, &l), 0);
    assert_int_equal(http_request(server.port, "GET", "/", l.s.cookie, NULL, 0, &r), 0);
    assert_non_null(strstr(r.body, "<html lang=\"fr\""));
    http_response_free(&r);
    /* Changed back to English in the session: remembered too. */
    snprintf(hdr, sizeof hdr, "%sX-CSRF-Token: %s\r\nContent-Type: application/json\r\n",
             l.s.cookie, l.s.csrf);
    http_expect(server.port, "PATCH", "/api/v1/session", hdr, "{\"lang\":\"en\"}", 13, 200, NULL);
    assert_int_equal(sign_in("approver", WEB_DEMO_PASSWORD, &l), 0);
    assert_int_equal(http_request(server.port, "GET", "/api/v1/session", l.s.cookie, NULL, 0, &r), 0);
    assert_non_null(strstr(r.body, "\"lang\":\"en\""));
    http_response_free(&r);
}

/* Corrections need a reason and make a new version; users added by the
 * administrator can sign in, disabled ones cannot. */
static void test_correction_and_users(void **state)
{
    struct demo_login *reg = login_of("registrar"), *admin = login_of("admin"), l;
    struct http_response r;
    char path[256];
    json_t *cur, *body;
    char *text;
    (void)state;

    snprintf(path, sizeof path, "/api/v1/records/%s", rec_id);
    assert_int_equal(http_request(server.port, "GET", path, reg->s.cookie, NULL, 0, &r), 0);
    cur = http_body_json(&r);
    http_response_free(&r);
    json_int_t version = json_integer_value(json_object_get(cur, "version"));
    json_t *rec = json_deep_copy(json_object_get(cur, "record"));
    json_object_set_new(json_object_get(rec, "birth"), "time", json_string("23:59"));

    snprintf(path, sizeof path, "/api/v1/records/%s/corrections", rec_id);
    body = json_pack("{s:O}", "record", rec); /* no reason */
    text = json_dumps(body, JSON_COMPACT);
    session_expect(server.port, &reg->s, "POST", path, text, 400, NULL);
    free(text);
    json_decref(body);

    body = json_pack("{s:O,s:s}", "record", rec, "reason", "hour misread: 23:59 in the register");
    text = json_dumps(body, JSON_COMPACT);
    assert_int_equal(post_json(reg, path, text, &r), 0);
    assert_int_equal(r.status, 200);
    json_t *res;
    res = http_body_json(&r);
    assert_int_equal(json_integer_value(json_object_get(res, "version")), version + 1);
    json_decref(res);
    http_response_free(&r);
    free(text);
    json_decref(body);
    json_decref(rec);
    json_decref(cur);

    /* A user made by the administrator signs in with their own roles. */
    session_expect(server.port, &admin->s, "POST", "/api/v1/users",
                   "{\"username\":\"amina.o\",\"password\":\"a long password\","
                   "\"roles\":[\"clerk\",\"auditor\"]}",
                   201, NULL);
    session_expect(server.port, &admin->s, "POST", "/api/v1/users",
                   "{\"username\":\"x\",\"password\":\"a long password\","
                   "\"roles\":[\"emperor\"]}",
                   400, NULL);
    assert_int_equal(sign_in("amina.o", "a long password", &l), 0);
    assert_int_equal(http_request(server.port, "GET", "/api/v1/session", l.s.cookie, NULL, 0, &r), 0);
    assert_non_null(strstr(r.body, "\"roles\":[\"clerk\",\"auditor\"]"));
    http_response_free(&r);
    /* Disabled: no more sign-in. */
    session_expect(server.port, &admin->s, "POST", "/api/v1/users/amina.o/disable", NULL, 200,
                   NULL);
    assert_int_equal(sign_in("amina.o", "a long password", &l), 401);
    /* Unknown ids: 404, not a generic refusal. */
    http_expect(server.port, "GET", "/api/v1/records/DEMO-R-nonexistent", reg->s.cookie, NULL, 0, 404, NULL);
    /* A well-formed UIN that nobody has: 404; a malformed one: 422. */
    char unknown_uin[16] = "729384615";
    unknown_uin[9] = (char)('0' + registry_verhoeff_digit(unknown_uin, 9));
    unknown_uin[10] = '\0';
    assert_int_equal(registry_uin_check(unknown_uin, NULL), 0);
    snprintf(path, sizeof path, "/api/v1/persons/%s", unknown_uin);
    http_expect(server.port, "GET", path, reg->s.cookie, NULL, 0, 404, NULL);
    http_expect(server.port, "GET", "/api/v1/persons/1234", reg->s.cookie, NULL, 0, 422, NULL);
    /* An unknown record field: 422 naming it. */
    assert_int_equal(post_json(login_of("clerk"), "/api/v1/records",
                               "{\"record\":{\"colour\":\"blue\"}}", &r), 0);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "colour"));
    http_response_free(&r);
    /* Evidence: a scan uploaded as the raw body comes back byte for byte,
     * as an image; other types are refused. */
    size_t plen = 0;
    char *png = file_read(CIVREG_SOURCE_DIR "/web/demo/register-page.png", &plen);
    struct demo_login *ck = login_of("clerk");
    char h2[512], ct[64];
    assert_non_null(png);
    snprintf(h2, sizeof h2, "%sX-CSRF-Token: %s\r\nContent-Type: text/html\r\n", ck->s.cookie,
             ck->s.csrf);
    http_expect(server.port, "POST", "/api/v1/evidence", h2, "<script>", 8, 415, NULL);
    snprintf(h2, sizeof h2, "%sX-CSRF-Token: %s\r\nContent-Type: image/png\r\n", ck->s.cookie,
             ck->s.csrf);
    assert_int_equal(http_request(server.port, "POST", "/api/v1/evidence", h2, png, plen, &r), 0);
    assert_int_equal(r.status, 201);
    json_t *up;
    up = http_body_json(&r);
    /* The store has no route of its own: a hash opens nothing. The demo
     * records are keyed from this very page, so the record serves it. */
    snprintf(path, sizeof path, "/api/v1/evidence/%s",
             json_string_value(json_object_get(up, "hash")));
    http_response_free(&r);
    http_expect(server.port, "GET", path, ck->s.cookie, NULL, 0, 404, NULL);
    snprintf(path, sizeof path, "/api/v1/records/%s/evidence/%s", rec_id,
             json_string_value(json_object_get(up, "hash")));
    json_decref(up);
    assert_int_equal(http_request(server.port, "GET", path, ck->s.cookie, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, plen);
    assert_memory_equal(r.body, png, plen);
    assert_int_equal(http_header(&r, "Content-Type", ct, sizeof ct), 0);
    assert_string_equal(ct, "image/png");
    http_response_free(&r);
    free(png);

    /* Not an administrator: refused by the route table. */
    session_expect(server.port, &reg->s, "POST", "/api/v1/users/clerk/disable", NULL, 403,
                   "forbidden");
}

/* The trace marks what the server checked: an event whose signature was
 * altered in the database shows "failed" for its signature, one whose leaf
 * hash was altered shows "failed" for its inclusion proof; the others stay
 * verified. Runs last: it corrupts the log on purpose. */
static void test_tampered_trace(void **state)
{
    struct demo_login *au = login_of("auditor");
    char path[256], dbpath[4200];
    json_t *j, *ev;
    json_int_t sig_seq = -1, leaf_seq = -1;
    sqlite3 *db;
    size_t i;
    (void)state;

    snprintf(path, sizeof path, "/api/v1/audit/trace/%s", rec_id);
    j = get_json(au, path);
    json_array_foreach(json_object_get(j, "events"), i, ev) {
        const char *type = json_string_value(json_object_get(ev, "type"));
        assert_true(json_is_true(json_object_get(ev, "signature_valid")));
        assert_true(json_is_true(json_object_get(ev, "inclusion_valid")));
        if (strcmp(type, "record.register") == 0)
            sig_seq = json_integer_value(json_object_get(ev, "seq"));
        if (strcmp(type, "record.draft") == 0)
            leaf_seq = json_integer_value(json_object_get(ev, "seq"));
    }
    json_decref(j);
    assert_true(sig_seq >= 0 && leaf_seq >= 0);

    snprintf(dbpath, sizeof dbpath, "%s/civreg.db", data);
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE events SET signature = zeroblob(64) WHERE seq = %lld;"
             "UPDATE events SET leaf_hash = zeroblob(32) WHERE seq = %lld;",
             (long long)sig_seq, (long long)leaf_seq);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    j = get_json(au, path);
    json_array_foreach(json_object_get(j, "events"), i, ev) {
        json_int_t seq = json_integer_value(json_object_get(ev, "seq"));
        assert_int_equal(json_is_true(json_object_get(ev, "signature_valid")), seq != sig_seq);
        assert_int_equal(json_is_true(json_object_get(ev, "inclusion_valid")), seq != leaf_seq);
    }
    json_decref(j);
}

/* Rows of the scan tables and scan.import events in the data directory. */
static long long scan_count(const char *what)
{
    char dbpath[4200], sql[160];
    sqlite3 *db;
    sqlite3_stmt *st;
    long long n = -1;

    snprintf(dbpath, sizeof dbpath, "%s/civreg.db", data);
    snprintf(sql, sizeof sql, "%s",
             strcmp(what, "events") == 0
                 ? "SELECT count(*) FROM events WHERE type = 'scan.import' AND actor = 'clerk'"
                 : "SELECT count(*) FROM scan_pages");
    assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Upload refusals: without the CSRF token or with another session's, an
 * oversize file, a text file named .png, a truncated PNG; each is a clear
 * 4xx and stores nothing. The setup's import was one signed scan.import
 * event per file by the clerk; pages and images are served to readers only. */
static void test_scan_upload(void **state)
{
    struct demo_login *clerk = login_of("clerk"), *clerk2 = login_of("clerk2");
    struct http_response r;
    char hdr[512], path[160], id[64], code[64], trunc[4200], page[4200];
    long long pages = scan_count("pages"), events = scan_count("events");
    json_t *j;
    (void)state;

    assert_true(pages >= 2);
    assert_int_equal(events, 2); /* one per imported file */
    /* A batch of the clerk's. */
    assert_int_equal(web_create(server.port, &clerk->s, "/api/v1/scan-batches", "{}", id, sizeof id),
                     201);
    snprintf(path, sizeof path, "/api/v1/scan-batches/%s/files", id);
    snprintf(page, sizeof page, "%s/web/demo/register-page.png", CIVREG_SOURCE_DIR);
    size_t plen;
    char *png = file_read(page, &plen);
    assert_non_null(png);

    /* CSRF: no token, then clerk2's token with the clerk's cookie. */
    snprintf(hdr, sizeof hdr, "%sContent-Type: image/png\r\n", clerk->s.cookie);
    http_expect(server.port, "POST", path, hdr, png, plen, 403, "csrf");
    snprintf(hdr, sizeof hdr, "%sX-CSRF-Token: %s\r\nContent-Type: image/png\r\n", clerk->s.cookie,
             clerk2->s.csrf);
    http_expect(server.port, "POST", path, hdr, png, plen, 403, "csrf");
    /* Another clerk cannot add to or import this clerk's batch. */
    snprintf(hdr, sizeof hdr, "%sX-CSRF-Token: %s\r\nContent-Type: image/png\r\n", clerk2->s.cookie,
             clerk2->s.csrf);
    http_expect(server.port, "POST", path, hdr, png, plen, 404, NULL);

    snprintf(hdr, sizeof hdr, "%sX-CSRF-Token: %s\r\nContent-Type: image/png\r\n", clerk->s.cookie,
             clerk->s.csrf);
    /* Oversize: 64 MB + 1 byte of a PNG. */
    size_t big = ((size_t)64 << 20) + 1;
    char *huge = calloc(1, big);
    assert_non_null(huge);
    memcpy(huge, png, plen);
    http_expect(server.port, "POST", path, hdr, huge, big, 413, "too_large");
    free(huge);
    /* Text named .png. */
    assert_int_equal(http_request(server.port, "POST", path, hdr, "hello, not a scan\n", 18, &r), 0);
    assert_int_equal(r.status, 415);
    http_response_free(&r);
    /* Empty. */
    http_expect(server.port, "POST", path, hdr, "", 0, 400, NULL);
    /* A truncated PNG is accepted into the batch, and the import refuses it
     * with the decoder's message: 422, nothing stored, no event. */
    snprintf(trunc, sizeof trunc, "%s/trunc.png", dir);
    assert_int_equal(file_write(trunc, png, plen / 2), 0);
    free(png);
    const char *files[] = { trunc, NULL };
    assert_int_equal(scan_batch(clerk, files, &j), 422);
    assert_int_equal(json_integer_value(json_object_get(j, "files_failed")), 1);
    const char *msg = json_string_value(json_object_get(json_array_get(json_object_get(j, "errors"), 0), "error"));
    assert_non_null(msg);
    assert_non_null(strstr(msg, "trunc"));
    assert_null(strstr(msg, "/uploads/"));
    json_decref(j);
    assert_int_equal(scan_count("pages"), pages);
    assert_int_equal(scan_count("events"), events);
    /* The same page again adds nothing (re-import). */
    const char *again[] = { page, NULL };
    assert_int_equal(scan_batch(clerk, again, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "pages_added")), 0);
    json_decref(j);
    assert_int_equal(scan_count("pages"), pages);

    /* Page images: the preview is a PNG, the full image the uploaded file. */
    snprintf(path, sizeof path, "/api/v1/pages/%s/preview", page_id);
    assert_int_equal(http_request(server.port, "GET", path, login_of("auditor")->s.cookie, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_true(r.body_len > 8 && memcmp(r.body, "\x89PNG", 4) == 0);
    assert_int_equal(http_header(&r, "Content-Type", code, sizeof code), 0);
    assert_string_equal(code, "image/png");
    http_response_free(&r);
    snprintf(path, sizeof path, "/api/v1/pages/%s/thumbnail", page_id);
    http_expect(server.port, "GET", path, clerk->s.cookie, NULL, 0, 404, NULL);
    snprintf(path, sizeof path, "/api/v1/pages/%s/image", page_id);
    http_expect(server.port, "GET", path, login_of("enrol")->s.cookie, NULL, 0, 403, NULL);
    /* The page's register reference, as `civreg scan page` gives it. */
    snprintf(path, sizeof path, "/api/v1/pages/%s", page_id);
    assert_int_equal(http_request(server.port, "GET", path, clerk->s.cookie, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    j = http_body_json(&r);
    json_t *reg = json_object_get(j, "register");
    assert_string_equal(json_string_value(json_object_get(reg, "office")), "DEMO");
    assert_int_equal(json_integer_value(json_object_get(reg, "year")), 1987);
    assert_string_equal(json_string_value(json_object_get(reg, "volume")), "3");
    assert_int_equal(json_integer_value(json_object_get(reg, "page")), 1);
    /* The browser's file name is recorded, not the staging name. */
    assert_string_equal(json_string_value(json_object_get(j, "file_name")), "register-page.png");
    json_decref(j);
    http_response_free(&r);
}

/* Issue 8: a deceased person cannot be enrolled for a document, through
 * the JSON API. The registrar registers the death of a registered person
 * with the real civreg binary against the running server's data; the
 * enrolment officer's POST /api/v1/applications is then refused with a
 * clear 4xx and no application is stored. */
static void test_deceased_enrolment(void **state)
{
    struct demo_login *enrol = login_of("enrol");
    struct http_response r;
    struct proc_result pr;
    char pwfile[4200], photo_path[4200], *photo, *photo64, *body;
    size_t photo_len = 0;
    json_t *j;
    size_t before;
    (void)state;

    assert_non_null(enrol);
    assert_true(uin[0] != '\0');
    snprintf(pwfile, sizeof pwfile, "%s/registrar.pw", dir);
    assert_int_equal(file_write(pwfile, "demo\n", 5), 0);
    assert_int_equal(civreg_run(NULL, &pr,
                                (const char *[]){ "death", "register", uin, "--data", data,
                                                  "--date", "2025-06-01", "--locality", "Kisumu",
                                                  "--district", "Kisumu Central", "--informant",
                                                  "A. Informant", "--user", "registrar",
                                                  "--password-file", pwfile, NULL }),
                     0);
    if (pr.status != 0)
        fail_msg("death register: %s", pr.err);
    proc_result_free(&pr);

    before = list_size(enrol, "/api/v1/applications", "applications");

    snprintf(photo_path, sizeof photo_path, "%s/issuance/portrait.jpg", CIVREG_TEST_DATA);
    photo = file_read(photo_path, &photo_len);
    assert_non_null(photo);
    photo64 = b64_encode(photo, photo_len);
    assert_non_null(photo64);
    j = json_pack("{s:s,s:s,s:s}", "uin", uin, "doc_type", "TD3", "photo", photo64);
    body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_int_equal(post_json(enrol, "/api/v1/applications", body, &r), 0);
    printf("enrol a deceased person -> %d %s\n", r.status, r.body);
    assert_true(r.status >= 400 && r.status < 500);
    assert_non_null(strstr(r.body, "deceased"));
    /* its own code, which the screens say in English and French
     * (passport.error.deceased) */
    assert_int_equal(r.status, 409);
    j = http_body_json(&r);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                        "deceased");
    json_decref(j);
    http_response_free(&r);
    free(body);
    free(photo64);
    free(photo);

    assert_int_equal(list_size(enrol, "/api/v1/applications", "applications"), before);
}

/* Every answer carries the security headers (web/http.c). */
static void assert_security_headers(const char *headers, const char *what)
{
    static const char *const need[] = { "\r\nX-Content-Type-Options: nosniff",
                                         "\r\nX-Frame-Options: DENY",
                                         "\r\nReferrer-Policy: no-referrer",
                                         "\r\nCross-Origin-Opener-Policy: same-origin",
                                         "frame-ancestors 'none'", "\r\nCache-Control: ", NULL };
    for (size_t i = 0; need[i] != NULL; i++)
        if (strstr(headers, need[i]) == NULL) {
            printf("%s: missing %s in\n%s\n", what, need[i], headers);
            fail();
        }
    assert_non_null(strstr(headers, "\r\nContent-Security-Policy: "));
}

/* Read from FD until HAVE holds "\r\n\r\n"; returns the header length. */
static size_t read_head(int fd, char *have, size_t size, size_t *len)
{
    char *end;
    while ((end = strstr(have, "\r\n\r\n")) == NULL) {
        ssize_t n = read(fd, have + *len, size - 1 - *len);
        assert_true(n > 0);
        *len += (size_t)n;
        have[*len] = '\0';
    }
    return (size_t)(end + 4 - have);
}

/* HEAD PATH (with L's session, or none) on a keep-alive connection must
 * answer the GET's status and headers, Content-Length the GET's body
 * length, and no body: the next request on the same connection is then
 * answered from its first byte. */
static void check_head(const struct demo_login *l, const char *path)
{
    struct http_response g;
    struct timeval tv = { 10, 0 };
    char req[1024], buf[16384], cl[32];
    size_t len = 0, head;
    int fd, n;

    assert_int_equal(http_request(server.port, "GET", path, l ? l->s.cookie : NULL, NULL, 0, &g), 0);
    if (g.status != 200)
        printf("GET %s -> %d\n", path, g.status);
    assert_int_equal(g.status, 200);

    fd = loopback_connect(server.port, NULL, (int)tv.tv_sec, 0);
    assert_true(fd >= 0);
    n = snprintf(req, sizeof req, "HEAD %s HTTP/1.1\r\nHost: x\r\n%s\r\n", path,
                 l ? l->s.cookie : "");
    assert_int_equal(write(fd, req, (size_t)n), n);
    buf[0] = '\0';
    head = read_head(fd, buf, sizeof buf, &len);
    assert_true(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
    assert_int_equal(http_header(&g, "Content-Length", cl, sizeof cl), 0);
    {
        char want[64];
        /* A bundle grows by the record.view its own answer logs: there the
         * length is the GET's or larger, never absent. */
        bool grows = strstr(path, "/audit/bundle/") != NULL;
        if (grows)
            snprintf(want, sizeof want, "\r\nContent-Length: ");
        else
            snprintf(want, sizeof want, "\r\nContent-Length: %zu\r\n", g.body_len);
        buf[head - 2] = '\r';
        if (strstr(buf, want) == NULL)
            printf("HEAD %s: no \"%s\" in\n%s\n", path, want + 2, buf);
        assert_non_null(strstr(buf, want));
        if (grows) {
            const char *v = strstr(buf, want) + strlen(want);
            assert_true(strtoull(v, NULL, 10) >= g.body_len);
        }
    }
    /* Nothing after the headers, even a moment later. */
    usleep(200 * 1000);
    {
        struct timeval quick = { 0, 100 * 1000 };
        ssize_t extra;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &quick, sizeof quick);
        extra = read(fd, buf + len, sizeof buf - 1 - len);
        if (extra > 0)
            len += (size_t)extra;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    if (len != head)
        printf("HEAD %s: %zu bytes of body after the headers\n", path, len - head);
    assert_int_equal(len, head);
    buf[head - 2] = '\0';
    {
        char *headers = strdup(buf);
        assert_non_null(headers);
        assert_security_headers(headers, path);
        free(headers);
    }
    /* The same connection answers the next request correctly. */
    n = snprintf(req, sizeof req, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(write(fd, req, (size_t)n), n);
    len = 0;
    buf[0] = '\0';
    for (;;) {
        ssize_t got = read(fd, buf + len, sizeof buf - 1 - len);
        if (got <= 0)
            break;
        len += (size_t)got;
        buf[len] = '\0';
    }
    close(fd);
    if (strncmp(buf, "HTTP/1.1 200 ", 13) != 0)
        printf("after HEAD %s the next answer began: %.80s\n", path, buf);
    assert_true(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
    assert_non_null(strstr(buf, "\"status\":\"ok\""));
    assert_security_headers(g.headers, path);
    http_response_free(&g);
}

/* HEAD on every download (alert lists, evidence, page images, the audit
 * bundle), on the public pages and on assets: headers only, the right
 * Content-Length, the security headers, and the connection stays usable. */
static void test_head_downloads(void **state)
{
    struct http_response r;
    char path[512], hash[80];
    json_t *j;
    (void)state;

    check_head(login_of("enrol"), "/api/v1/documents/alerts");
    check_head(login_of("enrol"), "/api/v1/documents/alerts?format=csv");
    check_head(login_of("operator"), "/api/v1/documents/alerts?format=json");
    snprintf(path, sizeof path, "/api/v1/pages/%s", page_id);
    assert_int_equal(http_request(server.port, "GET", path, login_of("clerk")->s.cookie, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    j = http_body_json(&r);
    snprintf(hash, sizeof hash, "%s", json_string_value(json_object_get(j, "file_hash")));
    json_decref(j);
    http_response_free(&r);
    assert_int_equal(strlen(hash), 64);
    /* A record's scan, through the record that lists it. */
    snprintf(path, sizeof path, "/api/v1/records/%s", rec_id);
    assert_int_equal(http_request(server.port, "GET", path, login_of("clerk")->s.cookie, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    j = http_body_json(&r);
    snprintf(hash, sizeof hash, "%s",
             json_string_value(json_array_get(
                 json_object_get(json_object_get(j, "record"), "evidence"), 0)));
    json_decref(j);
    http_response_free(&r);
    assert_int_equal(strlen(hash), 64);
    snprintf(path, sizeof path, "/api/v1/records/%s/evidence/%s", rec_id, hash);
    check_head(login_of("clerk"), path);
    snprintf(path, sizeof path, "/api/v1/pages/%s/image", page_id);
    check_head(login_of("clerk"), path);
    snprintf(path, sizeof path, "/api/v1/pages/%s/preview", page_id);
    check_head(login_of("registrar"), path);
    snprintf(path, sizeof path, "/api/v1/audit/bundle/%s", rec_id);
    check_head(login_of("auditor"), path);
    check_head(NULL, "/seal");
    check_head(NULL, "/signin");
    check_head(NULL, "/healthz");
    check_head(NULL, "/static/js/app.js");
    check_head(login_of("clerk"), "/records");
    check_head(login_of("clerk"), "/api/v1/records?limit=2");

    /* A revalidated asset (304) carries the security headers too. */
    assert_int_equal(http_request(server.port, "GET", "/static/js/app.js", NULL, NULL, 0, &r), 0);
    {
        char etag[80], hdr[128];
        struct http_response nm;
        assert_int_equal(http_header(&r, "ETag", etag, sizeof etag), 0);
        snprintf(hdr, sizeof hdr, "If-None-Match: %s\r\n", etag);
        assert_int_equal(http_request(server.port, "GET", "/static/js/app.js", hdr, NULL, 0, &nm), 0);
        assert_int_equal(nm.status, 304);
        assert_int_equal(nm.body_len, 0);
        assert_security_headers(nm.headers, "304");
        http_response_free(&nm);
    }
    http_response_free(&r);
}

/* Administrators manage accounts and never read personal data: the record
 * history, traces, bundles and document traces are refused to the demo
 * admin (403) while the auditor reads them; and every demo user's roles
 * meet the separation-of-duties rule. */
static void test_admin_reads_no_personal_data(void **state)
{
    struct demo_login *admin = login_of("admin"), *auditor = login_of("auditor");
    struct http_response r;
    char path[512], code[64];
    struct err err = ERR_INIT;
    const char *const pats[] = { "/api/v1/records/{id}/history", "/api/v1/audit/trace/{id}",
                                 "/api/v1/audit/bundle/{id}", "/api/v1/audit/trace/{uin}",
                                 "/api/v1/documents/{number}/trace", "/audit/{id}", "/audit",
                                 "/passport/documents/{number}/trace", NULL };
    size_t checked = 0;
    (void)state;

    for (const struct web_demo_user *u = web_demo_users; u->username != NULL; u++)
        if (registry_roles_check(u->roles, &err) != 0)
            fail_msg("demo user %s: %s", u->username, err_msg(&err));
    for (size_t i = 0; pats[i] != NULL; i++) {
        const char *pat = strcmp(pats[i], "/api/v1/audit/trace/{uin}") == 0
                              ? "/api/v1/audit/trace/{id}" : pats[i];
        bool known = false;
        for (const struct web_route *rt = web_routes; rt->method != NULL; rt++)
            if (strcmp(rt->method, "GET") == 0 && strcmp(rt->path, pat) == 0) {
                known = true;
                assert_int_equal(web_route_roles(rt) & WEB_ROLE_ADMIN, 0);
            }
        if (!known)
            continue; /* built without that module */
        concrete_path(pats[i], path, sizeof path);
        assert_int_equal(http_request(server.port, "GET", path, admin->s.cookie, NULL, 0, &r), 0);
        if (r.status != 403 || strcmp(http_error_code(&r, code, sizeof code), "forbidden") != 0)
            fail_msg("GET %s as admin: want 403 forbidden, got %d %s", path, r.status, r.body);
        http_response_free(&r);
        checked++;
    }
    assert_true(checked >= 4);
    /* The auditor still reads the trace of the same record. */
    snprintf(path, sizeof path, "/api/v1/audit/trace/%s", rec_id);
    http_expect(server.port, "GET", path, auditor->s.cookie, NULL, 0, 200, NULL);
}

/* Each failure answers the status of its kind, decided where it is raised:
 * a registry refusal by role is 403 (not 422), an unknown id 404, a
 * database failure 500 with a reference and none of its detail. */
static void test_error_kinds(void **state)
{
    struct demo_login *clerk = login_of("clerk");
    struct http_response r;
    char path[256], code[64], dbpath[4200];
    json_t *cur, *body, *j;
    char *text;
    sqlite3 *db;
    (void)state;

    /* A clerk may correct drafts, not a registered record: the registry
     * refuses by role. */
    snprintf(path, sizeof path, "/api/v1/records/%s", rec_id);
    cur = get_json(clerk, path);
    json_t *rec = json_deep_copy(json_object_get(cur, "record"));
    json_object_set_new(json_object_get(rec, "birth"), "time", json_string("00:01"));
    snprintf(path, sizeof path, "/api/v1/records/%s/corrections", rec_id);
    body = json_pack("{s:o,s:s}", "record", rec, "reason", "clerk tries a registered record");
    text = json_dumps(body, JSON_COMPACT);
    assert_int_equal(post_json(clerk, path, text, &r), 0);
    if (r.status != 403 || strcmp(http_error_code(&r, code, sizeof code), "forbidden") != 0)
        fail_msg("clerk correcting a registered record: want 403 forbidden, got %d %s", r.status,
                 r.body);
    http_response_free(&r);
    free(text);
    json_decref(body);
    json_decref(cur);

    /* Unknown ids: 404 not_found. */
    http_expect(server.port, "GET", "/api/v1/records/DEMO-R-nobody-here/history", clerk->s.cookie, NULL, 0, 404, "not_found");
    http_expect(server.port, "GET", "/api/v1/volumes/nobody-here/pages", clerk->s.cookie, NULL, 0, 404, NULL);

    /* A storage failure whose SQLite message says "no such" and names a
     * path: 500 with a reference, and nothing of the message in the body. */
    snprintf(dbpath, sizeof dbpath, "%s/civreg.db", data);
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER probe_fail BEFORE INSERT ON birth_records BEGIN "
                                  "SELECT RAISE(ABORT, 'no such disk /var/secret/probe-detail'); END",
                                  NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(http_request(server.port, "GET", "/api/v1/records/example", clerk->s.cookie, NULL, 0,
                                  &r), 0);
    j = http_body_json(&r);
    http_response_free(&r);
    body = json_pack("{s:o}", "record", j);
    text = json_dumps(body, JSON_COMPACT);
    assert_int_equal(post_json(clerk, "/api/v1/records", text, &r), 0);
    free(text);
    json_decref(body);
    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER probe_fail", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    if (r.status != 500 || strcmp(http_error_code(&r, code, sizeof code), "internal") != 0)
        fail_msg("a storage failure: want 500 internal, got %d %s", r.status, r.body);
    j = http_body_json(&r);
    const char *ref = json_string_value(json_object_get(json_object_get(j, "error"), "reference"));
    assert_non_null(ref);
    assert_int_equal(strlen(ref), 12);
    json_decref(j);
    assert_null(strstr(r.body, "probe-detail"));
    assert_null(strstr(r.body, "/var/secret"));
    assert_null(strstr(r.body, "db:"));
    assert_null(strstr(r.body, "birth_records"));
    http_response_free(&r);
}

/* The record.view events of USER in the log (the test's own read). */
static long long view_count(const char *user)
{
    char dbpath[4200];
    sqlite3 *db;
    sqlite3_stmt *st;
    long long n = -1;

    snprintf(dbpath, sizeof dbpath, "%s/civreg.db", data);
    assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM events WHERE type = 'record.view'"
                                        " AND actor = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

#define VIEWERS 12 /* under the 16 connections one address may hold */
#define VIEWS_EACH 15

struct viewer {
    const struct demo_login *l;
    const char *path;
    int ok;
};

static void *view_many(void *p)
{
    struct viewer *v = p;

    for (int i = 0; i < VIEWS_EACH; i++) {
        struct http_response r;
        if (http_request(server.port, "GET", v->path, v->l->s.cookie, NULL, 0, &r) == 0 &&
            r.status == 200 && strstr(r.body, rec_id) != NULL)
            v->ok++;
        http_response_free(&r);
    }
    return NULL;
}

/* Many viewers at once, through the record view and the history (the two
 * ways a view is logged): every answer that showed the record has its own
 * signed record.view event in the log (the group commit shares commits, it
 * loses none), and the audit stays clean. */
static void test_concurrent_views(void **state)
{
    const struct demo_login *l = login_of("registrar");
    char show[256], history[256];
    struct viewer v[VIEWERS];
    pthread_t t[VIEWERS];
    long long before = view_count("registrar"), ok = 0;
    struct proc_result pr;
    (void)state;

    snprintf(show, sizeof show, "/api/v1/records/%s", rec_id);
    snprintf(history, sizeof history, "/api/v1/records/%s/history", rec_id);
    for (int i = 0; i < VIEWERS; i++) {
        v[i] = (struct viewer){ l, i % 2 ? history : show, 0 };
        assert_int_equal(pthread_create(&t[i], NULL, view_many, &v[i]), 0);
    }
    for (int i = 0; i < VIEWERS; i++) {
        pthread_join(t[i], NULL);
        ok += v[i].ok;
    }
    assert_int_equal(ok, VIEWERS * VIEWS_EACH);
    assert_int_equal(view_count("registrar") - before, VIEWERS * VIEWS_EACH);
    assert_int_equal(civreg_run(NULL, &pr, (const char *[]){ "audit", "verify", "--data", data,
                                                             NULL }),
                     0);
    if (pr.status != 0)
        printf("audit verify: %s%s\n", pr.out, pr.err);
    assert_int_equal(pr.status, 0);
    proc_result_free(&pr);
}

/* A second keying that disagrees twice: the first 409 is a refusal that
 * keeps its signed record.mismatch event (the step runs inside the group
 * commit, and the refusal must not roll it back), so the second round
 * counts it and sends the record back to the clerk. */
static void test_mismatch_kept_in_group(void **state)
{
    struct demo_login *clerk = login_of("clerk"), *clerk2 = login_of("clerk2");
    struct http_response r;
    char id[128], code[64], path[256];
    json_t *ex, *req, *j;
    char *body;
    (void)state;

    assert_int_equal(draft_named(clerk, "\"Zawadi Mbeki\"", id, sizeof id, code), 201);
    ex = get_json(clerk2, "/api/v1/records/example");
    json_object_set_new(json_object_get(ex, "child"), "given_names", json_string("Neema Other"));
    req = json_pack("{s:o,s:b}", "record", ex, "confirm_warnings", 1);
    body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    snprintf(path, sizeof path, "/api/v1/records/%s/verify", id);
    for (int round = 1; round <= 2; round++) {
        assert_int_equal(post_json(clerk2, path, body, &r), 0);
        if (r.status != 409)
            printf("verify round %d: %d %s\n", round, r.status, r.body);
        assert_int_equal(r.status, 409);
        j = http_body_json(&r);
        assert_true(json_is_true(json_object_get(j, "sent_back")) == (round == 2));
        json_decref(j);
        http_response_free(&r);
    }
    free(body);
}

CMOCKA_MAIN_WITH((.group = "web_access", .group_setup = setup, .group_teardown = teardown),
                 /* first: later tests tamper with the log on purpose */
                 test_concurrent_views, test_access_matrix, test_csrf, test_hostile_input,
                 test_throttle, test_sign_out, test_language_per_user, test_correction_and_users, test_tampered_trace,
                 test_scan_upload, test_deceased_enrolment, test_head_downloads,
                 test_admin_reads_no_personal_data, test_error_kinds, test_mismatch_kept_in_group)
