/* Integration: the district side of the national tier, against a real
 * PostgreSQL 15 server the test starts (tests/support/pg_cluster.sh), the
 * real `civreg national serve` and `civreg serve` on loopback.
 *
 *   uin     two districts receive blocks of national UINs, register offline
 *           from them, sync: every UIN is the office's own, none collides;
 *           an office whose block is used up refuses registration until a
 *           push tops it up; a UIN reserved for another office (or already
 *           assigned to another office) smuggled into a district is refused
 *           at sync and reported by `national status`.
 *   bgsync  `civreg serve` with national_url in civreg.conf: with the
 *           national tier down it backs off and the web server still
 *           answers; with it up, a birth registered through the web API
 *           reaches PostgreSQL with no manual push.
 *   tls     `national serve` over TLS with a certificate made by openssl: a
 *           push verifying it against the CA file succeeds; another CA, the
 *           system's CAs, plain http to a non-loopback address and a plain
 *           service without --insecure-loopback are refused.
 *
 * Exit 77 (skipped) only when the PostgreSQL server binaries are absent. */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "support/national.h"
#include "support/support.h"

static struct national nat;

static int group_setup(void **state)
{
    (void)state;
    return national_setup(&nat, "national-district");
}

static int group_teardown(void **state)
{
    (void)state;
    national_teardown(&nat);
    return 0;
}

/* ---- uin ---- */

static void push(const char *data, const char *const extra[], bool ok, char **errout)
{
    const char *args[16] = { "sync", "push", "--data", data, "--national", nat.serve_url };
    int n = 6;
    for (int i = 0; extra && extra[i]; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    if (ok)
        free(civreg_run_ok(NULL, args));
    else {
        char *e = civreg_run_fail(NULL, args);
        if (errout)
            *errout = e;
        else
            free(e);
    }
}

static void uin_block(const char *data, const char *count)
{
    char *out =
        civreg_run_ok(NULL, (const char *[]){ "sync", "uin-block", "--count", count, "--data", data,
                                              "--national", nat.serve_url, NULL });
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "received")), strtol(count, NULL, 10));
    json_decref(j);
    free(out);
}

/* The office nationally holding UIN ("" when none), malloc'd. */
static char *uin_office(const char *uin)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT coalesce(max(office), '') FROM uins WHERE uin = '%s'", uin);
    return psql(nat.pg_url, sql);
}

static void test_uin_blocks(void **state)
{
    char d1[4300], d2[4300], d3[4300], u[6][16], sql[512], *s, *e = NULL, *id;
    (void)state;
    national_serve_start(&nat, nat.pg_url, (const char *[]){ "--insecure-loopback", NULL }, "http");
    national_district_registered(&nat, "DU1", d1, sizeof d1);
    national_district_registered(&nat, "DU2", d2, sizeof d2);
    uin_block(d1, "20");
    uin_block(d2, "20");
    assert_int_equal(data_sql_long(d1, "SELECT count(*) FROM uin_pool WHERE used_at IS NULL"), 20);
    /* offline: the national service is not needed to register */
    national_serve_stop(&nat, SIGTERM);
    {
        static const char *const names[6] = { "Achieng", "Baraka", "Chebet",
                                              "Dalmas",  "Wanjiru", "Kiprono" };
        static const char *const dates[6] = { "2001-01-02", "1985-06-17", "1970-11-30",
                                              "1999-03-08", "1962-09-21", "2010-12-01" };
        for (int i = 0; i < 3; i++) {
            national_register_birth(&nat, d1, names[i], dates[i], u[i]);
            national_register_birth(&nat, d2, names[3 + i], dates[3 + i], u[3 + i]);
        }
    }
    national_serve_start(&nat, nat.pg_url, (const char *[]){ "--insecure-loopback", NULL }, "http");
    /* each UIN was reserved nationally for the office that assigned it */
    for (int i = 0; i < 6; i++) {
        s = uin_office(u[i]);
        assert_string_equal(s, i < 3 ? "DU1" : "DU2");
        free(s);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(u[i], u[k]);
    }
    push(d1, NULL, true, NULL);
    push(d2, NULL, true, NULL);
    assert_int_equal(psql_long(nat.pg_url, "SELECT count(*) FROM uins WHERE state = 'assigned'"),
                     6);
    assert_int_equal(psql_long(nat.pg_url, "SELECT count(*) FROM uin_collisions"), 0);
    assert_int_equal(
        psql_long(nat.pg_url, "SELECT count(*) FROM persons WHERE office IN ('DU1', 'DU2')"), 6);

    /* a used-up block refuses registration, clearly, until a push tops it up */
    data_sql(d2, "UPDATE uin_pool SET used_at = 'test' WHERE used_at IS NULL");
    id = national_draft_verified(&nat, d2, "Halima", "1977-04-14");
    assert_int_not_equal(national_try_register(&nat, d2, id, u[0], &e), 0);
    assert_non_null(strstr(e, "used every national UIN"));
    free(e);
    push(d2, (const char *[]){ "--uin-low", "5", "--uin-block", "10", NULL }, true, NULL);
    assert_int_equal(data_sql_long(d2, "SELECT count(*) FROM uin_pool WHERE used_at IS NULL"), 10);
    assert_int_equal(national_try_register(&nat, d2, id, u[0], NULL), 0);
    s = uin_office(u[0]);
    assert_string_equal(s, "DU2");
    free(s);
    free(id);
    push(d2, NULL, true, NULL);

    /* a UIN the nation reserved for DU1 smuggled into DU2's pool: DU2
     * assigns it offline, but the push is refused and reported */
    s = psql(nat.pg_url,
             "SELECT uin FROM uins WHERE office = 'DU1' AND state = 'reserved' ORDER BY uin"
             " LIMIT 1");
    data_sql(d2, "UPDATE uin_pool SET used_at = 'test' WHERE used_at IS NULL");
    snprintf(sql, sizeof sql,
             "INSERT INTO uin_pool(uin, block, received_at) VALUES ('%s', 'forged', '0')", s);
    data_sql(d2, sql);
    national_register_birth(&nat, d2, "Nyokabi", "1991-07-25", u[1]);
    assert_string_equal(u[1], s);
    push(d2, NULL, false, &e);
    assert_non_null(strstr(e, "UIN collision"));
    free(e);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM persons WHERE uin = '%s'", s);
    assert_int_equal(psql_long(nat.pg_url, sql), 0);
    {
        char *out =
            civreg_run_ok(NULL, (const char *[]){ "national", "status", "--pg", nat.pg_url, NULL });
        assert_non_null(strstr(out, "uin_collisions"));
        assert_non_null(strstr(out, s));
        assert_non_null(strstr(out, "DU1 (reserved)"));
        free(out);
    }
    free(s);

    /* an old UIN already assigned by DU1, arriving from a third office */
    national_district_registered(&nat, "DU3", d3, sizeof d3);
    snprintf(sql, sizeof sql,
             "INSERT INTO uin_pool(uin, block, received_at) VALUES ('%s', 'old', '0')", u[2]);
    data_sql(d3, sql);
    national_register_birth(&nat, d3, "Otieno", "1956-02-11", u[1]);
    assert_string_equal(u[1], u[2]);
    push(d3, NULL, false, &e);
    assert_non_null(strstr(e, "UIN collision"));
    free(e);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM uin_collisions WHERE office = 'DU3' AND uin = '%s'", u[2]);
    assert_int_equal(psql_long(nat.pg_url, sql), 1);
    s = uin_office(u[2]);
    assert_string_equal(s, "DU1");
    free(s);
    national_serve_stop(&nat, SIGTERM);
}

/* ---- bgsync ---- */

/* A loopback port nothing listens on (bound, then closed). */
static int dead_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void set_national_url(const char *data, const char *url)
{
    char path[4400], *conf, *line, *text;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/civreg.conf", data);
    conf = file_read(path, &len);
    assert_non_null(conf);
    /* drop a national_url line written before */
    if ((line = strstr(conf, "\nnational_url = ")) != NULL)
        *line = '\0';
    /* the periodic sync (and with it the deaths of other offices) every 5 s */
    assert_true(asprintf(&text, "%s\nnational_url = %s\nnational_sync_seconds = 5\n", conf,
                         url) > 0);
    assert_int_equal(file_write(path, text, strlen(text)), 0);
    free(text);
    free(conf);
}

static json_t *sync_status(const char *data)
{
    char *out = civreg_run_ok(NULL, (const char *[]){ "sync", "status", "--data", data, NULL });
    json_t *j = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(j);
    return j;
}

static void test_background_sync(void **state)
{
    char ds[4300], url[64], path[256], uin[16], sql[256], *id;
    struct http_response r;
    struct test_session reg;
    struct test_server web;
    json_t *st = NULL;
    int port, i;
    (void)state;

    national_district_registered(&nat, "DS", ds, sizeof ds);
    /* the national tier down: the server starts, backs off, still answers */
    snprintf(url, sizeof url, "http://127.0.0.1:%d", dead_port());
    set_national_url(ds, url);
    assert_int_equal(server_start(&web, ds, NULL, NULL), 0);
    port = web.port;
    for (i = 0; i < 100; i++) {
        json_decref(st);
        st = NULL;
        {
            struct proc_result pr;
            assert_int_equal(civreg_run(NULL, &pr, (const char *[]){ "sync", "status", "--data",
                                                                      ds, NULL }),
                             0);
            if (pr.status == 0)
                st = json_loads(pr.out, 0, NULL);
            proc_result_free(&pr);
        }
        if (st && json_integer_value(json_object_get(st, "failures")) >= 2)
            break;
        usleep(100000);
    }
    assert_non_null(st);
    assert_true(json_integer_value(json_object_get(st, "failures")) >= 2);
    assert_string_equal(json_string_value(json_object_get(st, "state")), "backing off");
    assert_non_null(strstr(json_string_value(json_object_get(st, "last_error")), "connect"));
    json_decref(st);
    assert_int_equal(http_request(port, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    http_response_free(&r);
    assert_int_equal(server_end(&web, SIGTERM), 0);

    /* the national tier up: a birth registered through the web API reaches
     * PostgreSQL on its own */
    national_serve_start(&nat, nat.pg_url, (const char *[]){ "--insecure-loopback", NULL }, "http");
    set_national_url(ds, nat.serve_url);
    assert_int_equal(server_start(&web, ds, NULL, NULL), 0);
    port = web.port;
    id = national_draft_verified(&nat, ds, "Sync", "2004-04-05");
    assert_int_equal(web_sign_in(port, "reg", STAFF_PW_REG, NULL, &reg), 200);
    {
        char hdr[512];
        json_t *j;
        snprintf(hdr, sizeof hdr, "%sX-CSRF-Token: %s\r\nContent-Type: application/json\r\n",
                 reg.cookie, reg.csrf);
        snprintf(path, sizeof path, "/api/v1/records/%s/register", id);
        assert_int_equal(http_request(port, "POST", path, hdr, "{}", 2, &r), 0);
        if (r.status != 200)
            fail_msg("register through the API: %d %s", r.status, r.body);
        j = json_loadb(r.body, r.body_len, 0, NULL);
        assert_non_null(j);
        snprintf(uin, sizeof uin, "%s", json_string_value(json_object_get(j, "uin")));
        json_decref(j);
        http_response_free(&r);
    }
    snprintf(sql, sizeof sql, "SELECT count(*) FROM persons WHERE office = 'DS' AND uin = '%s'",
             uin);
    for (i = 0; i < 300 && psql_long(nat.pg_url, sql) != 1; i++)
        usleep(100000);
    assert_int_equal(psql_long(nat.pg_url, sql), 1);
    assert_int_equal(psql_long(nat.pg_url, "SELECT tree_size FROM offices WHERE office = 'DS'"),
                     national_local_size(ds));
    st = sync_status(ds);
    assert_string_equal(json_string_value(json_object_get(st, "state")), "in sync");
    assert_int_equal(json_integer_value(json_object_get(st, "national_size")),
                     national_local_size(ds));
    json_decref(st);

    /* a death registered in another office and pushed there reaches this
     * office on its own: the next periodic sync receives it */
    {
        char dd[4300], uin_d[16], *out;
        national_district_registered(&nat, "DSD", dd, sizeof dd);
        national_register_birth(&nat, dd, "Tumaini", "1961-06-07", uin_d);
        free(civreg_run_ok(NULL, (const char *[]){ "death", "register", uin_d, "--date",
                                                   "2026-01-02", "--locality", "Nakuru",
                                                   "--district", "Nakuru East", "--informant",
                                                   "Grace Otieno", "--data", dd, "--user", "reg",
                                                   "--password-file", nat.pw_reg, NULL }));
        free(civreg_run_ok(NULL, (const char *[]){ "sync", "push", "--data", dd, "--national",
                                                   nat.serve_url, NULL }));
        for (i = 0; i < 200; i++) {
            st = sync_status(ds);
            if (json_integer_value(json_object_get(st, "deaths_received")) >= 1)
                break;
            json_decref(st);
            st = NULL;
            usleep(100000);
        }
        assert_non_null(st);
        assert_int_equal(json_integer_value(json_object_get(st, "deaths_received")), 1);
        json_decref(st);
        /* already held: a pull by hand receives nothing more */
        out = civreg_run_ok(NULL, (const char *[]){ "sync", "deaths", "--data", ds,
                                                    "--national", nat.serve_url, NULL });
        assert_non_null(strstr(out, "0 deaths"));
        free(out);
    }
    assert_int_equal(server_end(&web, SIGTERM), 0);
    national_serve_stop(&nat, SIGTERM);
    free(id);
}

/* ---- tls ---- */

static void make_cert(const char *key, const char *cert)
{
    const char *req[] = { "/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                          "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                          "subjectAltName=IP:127.0.0.1", NULL };
    struct proc_result pr;
    assert_int_equal(proc_run((char *const *)req, NULL, 0, 60, &pr), 0);
    assert_int_equal(pr.status, 0);
    proc_result_free(&pr);
}

static void test_tls(void **state)
{
    char dt[4300], cert[4300], key[4300], other[4300], okey[4300], uin[16], *e;
    (void)state;
    snprintf(cert, sizeof cert, "%s/national.pem", nat.root);
    snprintf(key, sizeof key, "%s/national.key", nat.root);
    snprintf(other, sizeof other, "%s/other.pem", nat.root);
    snprintf(okey, sizeof okey, "%s/other.key", nat.root);
    make_cert(key, cert);
    make_cert(okey, other);
    national_district_registered(&nat, "DT", dt, sizeof dt);
    national_register_birth(&nat, dt, "Tessa", "2005-05-06", uin);

    /* plain HTTP needs the explicit flag, and then only on loopback */
    e = civreg_run_fail(NULL, (const char *[]){ "national", "serve", "--pg", nat.pg_url, "--listen",
                                                "127.0.0.1:0", NULL });
    assert_non_null(strstr(e, "TLS is required"));
    free(e);
    e = civreg_run_fail(NULL, (const char *[]){ "national", "serve", "--pg", nat.pg_url, "--listen",
                                                "0.0.0.0:0", "--insecure-loopback", NULL });
    assert_non_null(strstr(e, "loopback"));
    free(e);
    /* the client refuses plain http to anything but loopback */
    e = civreg_run_fail(NULL, (const char *[]){ "sync", "push", "--data", dt, "--national",
                                                "http://192.0.2.1:8090", NULL });
    assert_non_null(strstr(e, "plain http is refused"));
    free(e);

    national_serve_start(&nat, nat.pg_url,
                         (const char *[]){ "--tls-cert", cert, "--tls-key", key, NULL }, "https");
    /* a certificate from another CA, or the system's CAs: refused, nothing sent */
    e = civreg_run_fail(NULL, (const char *[]){ "sync", "push", "--data", dt, "--national",
                                                nat.serve_url, "--ca", other, NULL });
    assert_non_null(strstr(e, "not trusted"));
    free(e);
    e = civreg_run_fail(
        NULL, (const char *[]){ "sync", "push", "--data", dt, "--national", nat.serve_url, NULL });
    assert_non_null(strstr(e, "not trusted"));
    free(e);
    assert_int_equal(psql_long(nat.pg_url, "SELECT tree_size FROM offices WHERE office = 'DT'"), 0);
    /* against the right CA: the push goes through TLS */
    free(civreg_run_ok(NULL, (const char *[]){ "sync", "push", "--data", dt, "--national",
                                               nat.serve_url, "--ca", cert, NULL }));
    assert_int_equal(psql_long(nat.pg_url, "SELECT tree_size FROM offices WHERE office = 'DT'"),
                     national_local_size(dt));
    /* a plain-http client to the TLS port gets nothing usable */
    {
        char plain[64];
        snprintf(plain, sizeof plain, "http://%s", nat.serve_url + strlen("https://"));
        e = civreg_run_fail(
            NULL, (const char *[]){ "sync", "push", "--data", dt, "--national", plain, NULL });
        free(e);
    }
    national_serve_stop(&nat, SIGTERM);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uin_blocks),
        cmocka_unit_test(test_background_sync),
        cmocka_unit_test(test_tls),
    };
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    if (getenv("NATIONAL_TEST_FILTER"))
        cmocka_set_test_filter(getenv("NATIONAL_TEST_FILTER"));
    return cmocka_run_group_tests_name("national_district", tests, group_setup, group_teardown);
}
