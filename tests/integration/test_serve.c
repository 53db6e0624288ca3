/* Integration tests: `civreg serve` over loopback (healthz, errors, headers,
 * clean shutdown on SIGTERM and SIGINT). */
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

#include "civreg_version.h"
#include "support/expect.h"
#include "support/cmocka_main.h"
#include "support/support.h"

static char *dir;
static char data[4096];

static int setup(void **state)
{
    (void)state;
    return (dir = tmp_data_dir("serve", data, sizeof data, NULL)) != NULL ? 0 : -1;
}

TMP_DIR_TEARDOWN(dir)

/* Start the server on a free port; returns the port. */
static int start(struct test_server *s)
{
    assert_int_equal(server_start(s, data, NULL, NULL), 0);
    return s->port;
}

static void test_healthz_and_sigterm(void **state)
{
    struct http_response r;
    char h[256];
    struct test_server srv;
    int port;
    (void)state;

    port = start(&srv);
    assert_true(port > 0);
    assert_int_equal(http_request(port, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    json_error_t je;
    json_t *j = json_loads(r.body, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(j, "version")), CIVREG_VERSION);
    assert_true(json_integer_value(json_object_get(j, "schema_version")) >= 1);
    json_decref(j);
    assert_int_equal(http_header(&r, "Content-Type", h, sizeof h), 0);
    assert_non_null(strstr(h, "application/json"));
    assert_int_equal(http_header(&r, "X-Content-Type-Options", h, sizeof h), 0);
    assert_string_equal(h, "nosniff");
    assert_int_equal(http_header(&r, "Content-Security-Policy", h, sizeof h), 0);
    assert_non_null(strstr(h, "frame-ancestors 'none'"));
    http_response_free(&r);

    /* Unknown paths: JSON 404; wrong method: 405. */
    assert_int_equal(http_request(port, "GET", "/no/such/thing", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "\"not_found\""));
    http_response_free(&r);
    http_expect(port, "POST", "/healthz", NULL, "x", 1, 405, NULL);

    /* Many requests in a row keep working (per-thread connections). */
    for (int i = 0; i < 50; i++) {
        http_expect(port, "GET", "/healthz", NULL, NULL, 0, 200, NULL);
    }

    assert_int_equal(server_end(&srv, SIGTERM), 0);
    /* Stopped: the port no longer answers. */
    assert_int_equal(http_request(port, "GET", "/healthz", NULL, NULL, 0, &r), -1);
}

static void test_sigint(void **state)
{
    struct test_server srv;
    int port;
    struct http_response r;
    (void)state;

    port = start(&srv);
    assert_int_equal(http_request(port, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    http_response_free(&r);
    assert_int_equal(server_end(&srv, SIGINT), 0);
}

static void test_port_in_use(void **state)
{
    struct test_server srv;
    int port;
    struct proc_result pr;
    char listen[64];
    (void)state;

    port = start(&srv);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    assert_int_equal(civreg_run(NULL, &pr, (const char *[]){ "serve", "--data", data, "--listen", listen, NULL }), 0);
    assert_int_equal(pr.status, 1);
    assert_non_null(strstr(pr.err, "cannot listen"));
    proc_result_free(&pr);
    assert_int_equal(civreg_run(NULL, &pr, (const char *[]){ "serve", "--data", data, "--listen", "localhost", NULL }), 0);
    assert_int_equal(pr.status, 1);
    assert_non_null(strstr(pr.err, "ADDRESS:PORT"));
    proc_result_free(&pr);
    assert_int_equal(server_end(&srv, SIGTERM), 0);
}

CMOCKA_MAIN_WITH((.group = "serve", .setup = setup, .teardown = teardown), test_healthz_and_sigterm,
                 test_sigint, test_port_in_use)
