/* The JSON nesting attack against the real server (a `serve --demo`
 * office): a 2 KB body of 1,000 nested brackets used to overflow a worker's
 * stack inside jansson and kill the process. Every state-changing route of
 * the table (iterated, so a new route is covered without editing this test)
 * gets the deep body from a user allowed to call it, with a valid CSRF
 * token: every route that reads a JSON body (found by sending it "{") must
 * refuse it with 400 bad_json naming the nesting, the seal check must find
 * the seal invalid for that reason, no route may answer a 5xx, and /healthz
 * must still answer after every request. */
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

#include "support/deep_json.h"
#include "support/server_fixture.h"
#include "support/cmocka_main.h"
#include "support/support.h"
#include "support/webtest.h"
#include "web/web.h"
#include "web/web_int.h"

static char *dir;
static char data[4096];
static struct test_server server;

static struct demo_login logins[16];
static size_t nlogins;

static void assert_alive(const char *after)
{
    struct http_response r;

    if (http_request(server.port, "GET", "/healthz", NULL, NULL, 0, &r) != 0)
        fail_msg("the server stopped answering after %s", after);
    if (r.status != 200)
        fail_msg("/healthz answered %d after %s", r.status, after);
    http_response_free(&r);
}

/* R is the 400 bad_json answer naming the nesting limit (WHAT: the request). */
static void assert_nesting_refused(const char *what, const struct http_response *r)
{
    json_t *j = http_body_json(r);
    const char *code = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    if (r->status != 400 || code == NULL || strcmp(code, "bad_json") != 0 || msg == NULL ||
        strstr(msg, "nested deeper than 64 levels") == NULL)
        fail_msg("%s: want 400 bad_json naming the nesting, got %d %s", what, r->status, r->body);
    json_decref(j);
}

static const char *nobody_here(const char *pat, const char *param, void *ctx)
{
    (void)pat, (void)param, (void)ctx;
    return "nobody-here";
}

static int setup(void **state)
{
    (void)state;

    if (server_start_demo(&server, "jsondepth", &dir, data, sizeof data) != 0)
        return -1;
    if (demo_sign_in_all(server.port, logins, sizeof logins / sizeof logins[0], &nlogins) != 0)
        return -1;
    /* The demo office has its PKI (a CSCA), so the public seal check gets
     * as far as parsing the seal. */
    return 0;
}

SERVER_TEARDOWN(server, dir)

/* The pen test's request, signed out, and deeper variants. */
static void test_session_depth_attack(void **state)
{
    static const size_t depths[] = { 1000, 100000, 65, 2000000 };
    struct http_response r;
    char what[64];
    (void)state;

    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
        size_t len;
        char *body = deep_json("username", depths[i], &len);
        assert_int_equal(http_request(server.port, "POST", "/api/v1/session",
                                      "Content-Type: application/json\r\n", body, len, &r), 0);
        free(body);
        snprintf(what, sizeof what, "%zu nested brackets", depths[i]);
        if (len > WEB_MAX_JSON_BODY) {
            assert_int_equal(r.status, 413);
        } else {
            assert_nesting_refused(what, &r);
        }
        http_response_free(&r);
        assert_alive(what);
    }
    /* 64 levels is within the limit: the parser runs and the sign-in is
     * refused for what it is (a username that is not a string). */
    size_t len;
    char *body = deep_json("username", 63, &len);
    assert_int_equal(http_request(server.port, "POST", "/api/v1/session",
                                  "Content-Type: application/json\r\n", body, len, &r), 0);
    free(body);
    assert_true(r.status >= 400 && r.status < 500);
    assert_null(strstr(r.body, "nested deeper"));
    http_response_free(&r);
    assert_alive("63 nested brackets");
}

/* Every state-changing route × the deep body. */
static void test_every_route(void **state)
{
    struct http_response r;
    char path[512], hdr[512], what[600];
    size_t len, json_routes = 0, routes = 0;
    char *body = deep_json("username", 1000, &len);
    (void)state;

    for (const struct web_route *rt = web_routes; rt->method != NULL; rt++) {
        const struct demo_login *l = NULL;
        bool reads_json, seal;

        if (!web_method_changes_state(rt->method))
            continue;
        /* Sign-out reads no body and would end the session used below. */
        if (strcmp(rt->method, "DELETE") == 0 && strcmp(rt->path, "/api/v1/session") == 0)
            continue;
        /* The public seal check takes the seal's JSON text as a raw body;
         * its answer to a seal that does not parse is 200 {valid: false}. */
        seal = strcmp(rt->path, "/api/v1/seal/verify") == 0;
        for (size_t i = 0; i < nlogins && rt->action != NULL; i++)
            if ((web_route_roles(rt) & logins[i].roles) != 0) {
                l = &logins[i];
                break;
            }
        if (rt->action != NULL && l == NULL)
            fail_msg("%s %s: no demo user may call it", rt->method, rt->path);
        /* {params} name nothing: no route may act on anything here. */
        route_path(rt->path, path, sizeof path, nobody_here, NULL);
        snprintf(hdr, sizeof hdr, "%s%s%s%sContent-Type: application/json\r\n",
                 l ? l->s.cookie : "", l ? "X-CSRF-Token: " : "", l ? l->s.csrf : "", l ? "\r\n" : "");
        /* Which routes read a JSON body is found out, not listed: those
         * that refuse a malformed one ("{") as bad_json. */
        assert_int_equal(http_request(server.port, rt->method, path, hdr, "{", 1, &r), 0);
        {
            json_t *j = http_body_json(&r);
            const char *code = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
            reads_json = code != NULL && strcmp(code, "bad_json") == 0;
            json_decref(j);
        }
        http_response_free(&r);
        assert_int_equal(http_request(server.port, rt->method, path, hdr, body, len, &r), 0);
        snprintf(what, sizeof what, "%s %s as %s", rt->method, path, l ? l->user : "nobody");
        if (seal) {
            json_t *j = http_body_json(&r);
            const char *err = json_string_value(json_object_get(j, "error"));
            if (r.status != 200 || !json_is_false(json_object_get(j, "valid")) || err == NULL ||
                strstr(err, "nested deeper than 64 levels") == NULL)
                fail_msg("%s: want 200 {valid:false} naming the nesting, got %d %s", what,
                         r.status, r.body);
            json_decref(j);
            json_routes++;
        } else if (r.status >= 500 || (reads_json && r.status != 400)) {
            /* Routes that read no JSON body (uploads of bytes, actions on
             * an object named in the path, opening an upload batch) answer
             * as they would to any body; never a server error. */
            fail_msg("%s: got %d %s", what, r.status, r.body);
        }
        if (reads_json) {
            assert_nesting_refused(what, &r);
            json_routes++;
        }
        print_message("%-60s %d%s\n", what, r.status, reads_json || seal ? " (reads JSON)" : "");
        http_response_free(&r);
        assert_alive(what);
        routes++;
    }
    free(body);
    print_message("deep body sent to %zu state-changing routes, %zu of them JSON\n", routes,
                  json_routes);
    assert_true(json_routes >= 13); /* the JSON routes when this test was written */
}

CMOCKA_MAIN(setup, teardown, test_session_depth_attack, test_every_route)
