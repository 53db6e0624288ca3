/* Integration: the registrar's web screen of cross-district duplicate cases
 * against a real PostgreSQL 15 server (tests/support/pg_cluster.sh), the
 * real `civreg national serve` on loopback and the real `civreg serve` of a
 * district, over HTTP on loopback.
 *
 * The same birth registered in offices DA and DB becomes a case. DB's
 * server then answers:
 *   - without national_url: 503 national_unconfigured;
 *   - with it: the case with both records side by side (names, birth date
 *     and place, offices, record ids) to the registrar, 403 to a clerk; a
 *     resolution needs the CSRF token, a decision and a reason, the case
 *     number of this office; the registrar's resolution is a signed
 *     national.duplicate event that the national tier records (status
 *     "same", the event in its store), and the list shows it decided;
 *   - a national tier that refuses connections: 502 national_unreachable;
 *   - one that accepts and never answers: 504 national_timeout within the
 *     configured national_timeout_seconds (2 s here), not a hung worker;
 *   - a decision signed while the push fails (a stand-in tier that lists
 *     the case and refuses the rest): 202 pushed false, the event kept in
 *     the office's log and recorded nationally by the next push.
 *
 * Exit 77 (CTest: skipped) only when the PostgreSQL server binaries are
 * absent. */
#define _GNU_SOURCE /* asprintf */
#include <arpa/inet.h>
#include <netinet/in.h>
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "support/cmocka_main.h"
#include "support/national.h"
#include "support/server_fixture.h"
#include "support/support.h"

static struct national nat;
static char data_a[4300], data_b[4300];
static char uin_a[16], uin_b[16];
/* the case of DB's birth as the national tier listed it (compact JSON) */
static char *the_case;
/* the district's server of the running test, stopped by its teardown
 * (a failed assertion leaves none behind) */
static struct test_server srv;
static int peer = -1; /* a loopback socket standing for a national tier */
static pid_t stand_in = -1; /* the process answering on it (fake_national) */

static int test_teardown(void **state)
{
    (void)state;
    /* the stand-in national tier first: its connections close */
    child_kill(&stand_in);
    fd_close(&peer);
    server_stop(&srv);
    memset(&srv, 0, sizeof srv);
    return 0;
}

/* DATA's civreg.conf as written by init, then LINES (the national settings
 * of this step; those of an earlier step dropped). */
static void set_conf(const char *data, const char *lines)
{
    static const char mark[] = "\n# national settings (test_national_web)\n";
    char path[4400], *conf, *cut, *text;
    size_t len = 0;

    snprintf(path, sizeof path, "%s/civreg.conf", data);
    conf = file_read(path, &len);
    assert_non_null(conf);
    if ((cut = strstr(conf, mark)) != NULL)
        *cut = '\0';
    assert_true(asprintf(&text, "%s%s%s", conf, mark, lines) > 0);
    assert_int_equal(file_write(path, text, strlen(text)), 0);
    free(text);
    free(conf);
}

/* A loopback TCP socket bound to a free port; listening when LISTEN. */
static int loopback_socket(bool listen_too, int *port)
{
    int fd = tcp_listen_loopback(listen_too ? 8 : -1, port);
    assert_true(fd >= 0);
    return fd;
}

/* Office B's server started against a national tier at loopback PORT
 * (a 2 s timeout, no background sync), its registrar signed in as REG. */
static void serve_b_against(int port, struct test_session *reg)
{
    char conf[256];

    snprintf(conf, sizeof conf,
             "national_url = http://127.0.0.1:%d\nnational_timeout_seconds = 2\n"
             "national_sync_seconds = 86400\n",
             port);
    set_conf(data_b, conf);
    assert_int_equal(server_start(&srv, data_b, NULL, NULL), 0);
    assert_int_equal(web_sign_in(srv.port, "reg", STAFF_PW_REG, NULL, reg), 200);
}

/* GET the cases as S: the status, the error code into CODE, the body's
 * JSON into *OUT when not NULL. */
static int get_cases(const struct test_server *sv, const struct test_session *s, char code[64],
                     json_t **out)
{
    struct http_response r;
    int st;

    assert_int_equal(session_request(sv->port, s, "GET", "/api/v1/national/duplicates", NULL, &r),
                     0);
    st = r.status;
    http_error_code(&r, code, 64);
    if (out != NULL)
        *out = http_body_json(&r);
    http_response_free(&r);
    return st;
}

/* The case list asked through SV as S, answered STATUS with the error code
 * WANT: the seconds the answer took. */
static double get_cases_timed(const struct test_server *sv, const struct test_session *s,
                              int status, const char *want)
{
    double t0 = now_s(), took;
    char code[64];

    assert_int_equal(get_cases(sv, s, code, NULL), status);
    took = now_s() - t0;
    assert_string_equal(code, want);
    return took;
}

static int post_resolve(const struct test_server *sv, const struct test_session *s,
                        const char *id, const char *body, char code[64], json_t **out)
{
    struct http_response r;
    char path[128];
    int st;

    snprintf(path, sizeof path, "/api/v1/national/duplicates/%s", id);
    assert_int_equal(session_request(sv->port, s, "POST", path, body, &r), 0);
    st = r.status;
    http_error_code(&r, code, 64);
    if (out != NULL)
        *out = http_body_json(&r);
    http_response_free(&r);
    return st;
}

/* The registrar's decision BODY on case ID through SV as session S: a
 * signed event, answered STATUS with "pushed" PUSHED. The answer (the
 * caller frees it). */
static json_t *resolve_signed(const struct test_server *sv, const struct test_session *s,
                              const char *id, const char *body, int status, bool pushed)
{
    char code[64];
    json_t *res = NULL, *p;

    assert_int_equal(post_resolve(sv, s, id, body, code, &res), status);
    p = json_object_get(res, "pushed");
    assert_true(pushed ? json_is_true(p) : json_is_false(p));
    assert_true(json_integer_value(json_object_get(res, "event")) > 0);
    return res;
}

static int group_setup(void **state)
{
    char *ka, *kb;
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    if (national_setup(&nat, "natweb") != 0)
        return -1;
    national_serve_start(&nat, nat.pg_url, (const char *[]){ "--insecure-loopback", NULL },
                         "http");
    national_district(&nat, "DA", data_a, sizeof data_a);
    national_district(&nat, "DB", data_b, sizeof data_b);
    ka = national_office_key(data_a);
    kb = national_office_key(data_b);
    fixture_office_add(&nat, "DA", ka);
    fixture_office_add(&nat, "DB", kb);
    free(ka);
    free(kb);
    /* the same birth in two districts */
    national_register_birth(&nat, data_a, "Wanjiku Imani", "1985-06-07", uin_a);
    national_register_birth(&nat, data_b, "Wanjiku Imani", "1985-06-07", uin_b);
    free(civreg_run_ok(NULL, (const char *[]){ "sync", "push", "--data", data_a, "--national",
                                               nat.serve_url, NULL }));
    free(civreg_run_ok(NULL, (const char *[]){ "sync", "push", "--data", data_b, "--national",
                                               nat.serve_url, NULL }));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    national_teardown(&nat);
    return 0;
}

static void test_not_configured(void **state)
{
    struct test_session reg;
    char code[64];
    (void)state;

    assert_int_equal(server_start(&srv, data_b, NULL, NULL), 0);
    assert_int_equal(web_sign_in(srv.port, "reg", STAFF_PW_REG, NULL, &reg), 200);
    assert_int_equal(get_cases(&srv, &reg, code, NULL), 503);
    assert_string_equal(code, "national_unconfigured");
    assert_int_equal(post_resolve(&srv, &reg, "1", "{\"decision\":\"same\",\"reason\":\"x\"}",
                                  code, NULL),
                     503);
    assert_string_equal(code, "national_unconfigured");
    server_stop(&srv);
}

/* The case of DB's birth in the list L, or NULL. */
static json_t *case_of(json_t *l)
{
    json_t *x;
    size_t i;
    json_array_foreach(json_object_get(l, "cases"), i, x)
        if (strcmp(json_string_value(json_object_get(x, "uin_a")), uin_b) == 0 ||
            strcmp(json_string_value(json_object_get(x, "uin_b")), uin_b) == 0)
            return x;
    return NULL;
}

static void test_list_and_resolve(void **state)
{
    struct test_session reg, clerk, nocsrf;
    char conf[256], code[64], id[24], sql[512], *st;
    json_t *l, *c, *a, *b;
    (void)state;

    snprintf(conf, sizeof conf, "national_url = %s\nnational_timeout_seconds = 5\n",
             nat.serve_url);
    set_conf(data_b, conf);
    assert_int_equal(server_start(&srv, data_b, NULL, NULL), 0);
    assert_int_equal(web_sign_in(srv.port, "reg", STAFF_PW_REG, NULL, &reg), 200);
    assert_int_equal(web_sign_in(srv.port, "clerk1", STAFF_PW_CLERK1, NULL, &clerk), 200);

    /* a clerk does not see the cases */
    assert_int_equal(get_cases(&srv, &clerk, code, NULL), 403);
    assert_string_equal(code, "forbidden");
    /* the registrar sees the case, both records side by side */
    assert_int_equal(get_cases(&srv, &reg, code, &l), 200);
    assert_string_equal(json_string_value(json_object_get(l, "office")), "DB");
    c = case_of(l);
    assert_non_null(c);
    assert_string_equal(json_string_value(json_object_get(c, "status")), "open");
    assert_string_equal(json_string_value(json_object_get(c, "office_a")), "DA");
    assert_string_equal(json_string_value(json_object_get(c, "office_b")), "DB");
    a = json_object_get(c, "a");
    b = json_object_get(c, "b");
    assert_string_equal(json_string_value(json_object_get(a, "given_names")), "Wanjiku Imani");
    assert_string_equal(json_string_value(json_object_get(b, "given_names")), "Wanjiku Imani");
    assert_string_equal(json_string_value(json_object_get(a, "family_name")),
                        json_string_value(json_object_get(b, "family_name")));
    assert_string_equal(json_string_value(json_object_get(a, "birth_date")), "1985-06-07");
    assert_string_equal(json_string_value(json_object_get(b, "birth_date")), "1985-06-07");
    assert_true(strlen(json_string_value(json_object_get(a, "locality"))) > 0);
    assert_string_equal(json_string_value(json_object_get(a, "uin")), uin_a);
    assert_string_equal(json_string_value(json_object_get(b, "uin")), uin_b);
    assert_true(strlen(json_string_value(json_object_get(a, "registration_number"))) > 0);
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(c, "id")));
    the_case = json_dumps(c, JSON_COMPACT);
    json_decref(l);

    /* refused: without the CSRF token, by a clerk, without a reason or a
     * decision, a case number that is not this office's */
    nocsrf = reg;
    snprintf(nocsrf.csrf, sizeof nocsrf.csrf, "wrong");
    assert_int_equal(post_resolve(&srv, &nocsrf, id, "{\"decision\":\"same\",\"reason\":\"r\"}",
                                  code, NULL),
                     403);
    assert_string_equal(code, "csrf");
    assert_int_equal(post_resolve(&srv, &clerk, id, "{\"decision\":\"same\",\"reason\":\"r\"}",
                                  code, NULL),
                     403);
    assert_int_equal(post_resolve(&srv, &reg, id, "{\"decision\":\"same\",\"reason\":\"\"}", code,
                                  NULL),
                     400);
    assert_int_equal(post_resolve(&srv, &reg, id, "{\"decision\":\"maybe\",\"reason\":\"r\"}",
                                  code, NULL),
                     400);
    assert_int_equal(post_resolve(&srv, &reg, "999999", "{\"decision\":\"same\",\"reason\":\"r\"}",
                                  code, NULL),
                     404);
    assert_string_equal(code, "national_case_unknown");
    st = psql(nat.pg_url, "SELECT count(*) FROM events WHERE office = 'DB' AND"
                          " type = 'national.duplicate'");
    assert_string_equal(st, "0");
    free(st);

    /* the registrar resolves it: a signed event, recorded nationally */
    json_decref(resolve_signed(&srv, &reg, id,
                               "{\"decision\":\"same\",\"reason\":\"one birth registered in "
                               "both districts: same parents, same hospital\"}",
                               200, true));
    snprintf(sql, sizeof sql, "SELECT status FROM dup_cases WHERE id = %s", id);
    st = psql(nat.pg_url, sql);
    assert_string_equal(st, "same");
    free(st);
    st = psql(nat.pg_url, "SELECT count(*) FROM events WHERE office = 'DB' AND"
                          " type = 'national.duplicate'");
    assert_string_equal(st, "1");
    free(st);
    /* the list shows it decided, with the event of DB */
    assert_int_equal(get_cases(&srv, &reg, code, &l), 200);
    c = case_of(l);
    assert_string_equal(json_string_value(json_object_get(c, "status")), "same");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(c, "resolutions"), 0),
                                          "office")),
        "DB");
    json_decref(l);
    server_stop(&srv);
    /* DB's log, the web's event in it, still verifies */
    free(civreg_run_ok(NULL, (const char *[]){ "audit", "verify", "--data", data_b, NULL }));
}

/* A stand-in national tier (a child process) on the listening socket FD:
 * SILENT, it accepts and never answers (the connections close when it is
 * killed); else it lists THE_CASE and answers every other request 503, so
 * the push after a decision fails. */
static pid_t fake_national(int fd, bool silent)
{
    pid_t pid = fork();
    char req[65536], resp[70000];

    assert_true(pid >= 0);
    if (pid > 0)
        return pid;
    for (;;) {
        int c = accept(fd, NULL, NULL);
        size_t got = 0;
        ssize_t n;
        const char *body;
        char *hend;
        if (c < 0)
            _exit(0);
        if (silent)
            continue; /* held open until this process dies */
        /* the head, then the body its Content-Length announces */
        while (got < sizeof req - 1 && (n = read(c, req + got, sizeof req - 1 - got)) > 0) {
            req[got += (size_t)n] = '\0';
            if ((hend = strstr(req, "\r\n\r\n")) != NULL) {
                const char *cl = strstr(req, "Content-Length: ");
                if (cl == NULL || (size_t)(hend + 4 - req) + strtoul(cl + 16, NULL, 10) <= got)
                    break;
            }
        }
        if (strncmp(req, "POST /national/v1/duplicates ", 29) == 0)
            body = the_case;
        else
            body = NULL;
        if (body != NULL)
            snprintf(resp, sizeof resp,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu"
                     "\r\nConnection: close\r\n\r\n{\"cases\":[%s]}",
                     strlen(body) + 12, body);
        else
            snprintf(resp, sizeof resp,
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                     "Content-Length: 18\r\nConnection: close\r\n\r\n{\"message\":\"down\"}");
        if (write(c, resp, strlen(resp)) < 0)
            _exit(1);
        close(c);
    }
}

static void test_unreachable_and_slow(void **state)
{
    struct test_session reg;
    char code[64];
    int port;
    double t0, took;
    (void)state;

    /* nothing listens: refused at once */
    peer = loopback_socket(false, &port);
    serve_b_against(port, &reg);
    took = get_cases_timed(&srv, &reg, 502, "national_unreachable");
    print_message("refused connection answered 502 in %.2f s\n", took);
    assert_true(took < 6.0);
    server_stop(&srv);
    close(peer);
    peer = -1;

    /* a server that accepts and never answers: 504 within the bound */
    peer = loopback_socket(true, &port);
    stand_in = fake_national(peer, true);
    serve_b_against(port, &reg);
    took = get_cases_timed(&srv, &reg, 504, "national_timeout");
    print_message("silent national tier answered 504 in %.2f s (timeout 2 s)\n", took);
    assert_true(took >= 1.5 && took < 8.0);
    assert_int_equal(post_resolve(&srv, &reg, "1", "{\"decision\":\"same\",\"reason\":\"r\"}",
                                  code, NULL),
                     504);
    /* the server still answers other requests */
    {
        struct http_response r;
        assert_int_equal(http_request(srv.port, "GET", "/healthz", NULL, NULL, 0, &r), 0);
        assert_int_equal(r.status, 200);
        http_response_free(&r);
    }
    /* the silent peer gone, its connections close (the background sync's
     * among them, which has no such bound), so the server stops at once */
    child_kill(&stand_in);
    fd_close(&peer);
    t0 = now_s();
    server_stop(&srv);
    print_message("the server stopped in %.2f s\n", now_s() - t0);
    assert_true(now_s() - t0 < 10.0);
}

/* The case listed, the decision signed here, the push refused: 202, the
 * event in this office's log, the next push carries it. */
static void test_resolved_not_pushed(void **state)
{
    struct test_session reg;
    char id[24];
    json_t *res, *c = json_loads(the_case, 0, NULL);
    long before;
    int port;
    (void)state;

    assert_non_null(c);
    snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(c, "id")));
    json_decref(c);
    peer = loopback_socket(true, &port);
    stand_in = fake_national(peer, false);
    before = data_sql_long(data_b, "SELECT count(*) FROM events WHERE type = 'national.duplicate'");
    serve_b_against(port, &reg);
    res = resolve_signed(&srv, &reg, id,
                         "{\"decision\":\"distinct\",\"reason\":\"second look: "
                         "different parents\"}",
                         202, false);
    assert_string_equal(json_string_value(json_object_get(res, "code")), "national_refused");
    json_decref(res);
    server_stop(&srv);
    child_kill(&stand_in);
    assert_int_equal(
        data_sql_long(data_b, "SELECT count(*) FROM events WHERE type = 'national.duplicate'"),
        before + 1);
    /* the real national tier takes it at the next push: the last decision */
    free(civreg_run_ok(NULL, (const char *[]){ "sync", "push", "--data", data_b, "--national",
                                               nat.serve_url, NULL }));
    {
        char sql[128], *st;
        snprintf(sql, sizeof sql, "SELECT status FROM dup_cases WHERE id = %s", id);
        st = psql(nat.pg_url, sql);
        assert_string_equal(st, "distinct");
        free(st);
    }
}

CMOCKA_MAIN_WITH((.group = "national_web", .group_setup = group_setup,
                  .group_teardown = group_teardown, .teardown = test_teardown),
                 test_not_configured, test_list_and_resolve, test_unreachable_and_slow,
                 test_resolved_not_pushed)
