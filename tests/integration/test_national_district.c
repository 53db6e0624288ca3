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

#include "support/support.h"

#define PG_CLUSTER CIVREG_SOURCE_DIR "/tests/support/pg_cluster.sh"

static char *root;
static char pg_dir[4200], pg_url[4400], pw_admin[4200], pw_c1[4200], pw_c2[4200], pw_reg[4200];
static pid_t serve_pid = -1;
static char serve_url[64];
static json_t *example;

static char *run_ok(const char *in, const char *const args[])
{
    struct proc_result r;
    char *out;
    assert_int_equal(civreg_run(in, &r, args), 0);
    if (r.status != 0)
        fail_msg("civreg %s %s: exit %d: %s", args[0], args[1] ? args[1] : "", r.status, r.err);
    out = r.out;
    r.out = NULL;
    proc_result_free(&r);
    return out;
}

static char *run_fail(const char *in, const char *const args[])
{
    struct proc_result r;
    char *e;
    assert_int_equal(civreg_run(in, &r, args), 0);
    if (r.status == 0)
        fail_msg("civreg %s %s: expected a failure: %s", args[0], args[1], r.out);
    e = r.err;
    r.err = NULL;
    proc_result_free(&r);
    return e;
}

static int pg_cluster(const char *cmd, const char *dir, char *url_out, size_t url_size)
{
    char *argv[] = { (char *)PG_CLUSTER, (char *)cmd, (char *)dir, NULL };
    struct proc_result r;
    int st;
    if (proc_run(argv, NULL, 0, 180, &r) != 0)
        return -1;
    st = r.status;
    if (st != 0 && st != 77)
        print_message("pg_cluster.sh %s: %s\n", cmd, r.err);
    if (url_out && st == 0) {
        char *nl;
        while ((nl = strrchr(r.out, '\n')) != NULL && nl[1] == '\0')
            *nl = '\0';
        nl = strrchr(r.out, '\n');
        snprintf(url_out, url_size, "%s", nl ? nl + 1 : r.out);
    }
    proc_result_free(&r);
    return st;
}

static char *psql(const char *sql)
{
    char *argv[] = { (char *)"/usr/bin/psql", pg_url, (char *)"-Atq", (char *)"-c", (char *)sql,
                     NULL };
    struct proc_result r;
    char *out, *nl;
    assert_int_equal(proc_run(argv, NULL, 0, 60, &r), 0);
    if (r.status != 0)
        fail_msg("psql %s: %s", sql, r.err);
    out = r.out;
    r.out = NULL;
    proc_result_free(&r);
    if ((nl = strrchr(out, '\n')) != NULL && nl[1] == '\0')
        *nl = '\0';
    return out;
}

static long psql_long(const char *sql)
{
    char *s = psql(sql);
    long v = strtol(s, NULL, 10);
    free(s);
    return v;
}

/* Start `national serve` with EXTRA arguments; its URL into serve_url. */
static void nserve_start(const char *const extra[], const char *scheme)
{
    char *argv[16] = { (char *)CIVREG_BIN, (char *)"national", (char *)"serve", (char *)"--pg",
                       pg_url, (char *)"--listen", (char *)"127.0.0.1:0" };
    char line[256];
    const char *p;
    int fd, n = 7;
    for (int i = 0; extra[i]; i++)
        argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    assert_int_equal(proc_spawn(argv, &serve_pid, &fd), 0);
    assert_int_equal(proc_read_line(fd, line, sizeof line, 60), 0);
    close(fd);
    p = strstr(line, "127.0.0.1:");
    assert_non_null(p);
    snprintf(serve_url, sizeof serve_url, "%s://127.0.0.1:%d", scheme,
             (int)strtol(p + 10, NULL, 10));
}

static void nserve_stop(void)
{
    if (serve_pid > 0) {
        kill(serve_pid, SIGTERM);
        (void)proc_wait(serve_pid, 30);
        serve_pid = -1;
    }
}

static char *write_pw(const char *name, const char *pw, char *out, size_t size)
{
    snprintf(out, size, "%s/%s.pw", root, name);
    assert_int_equal(file_write(out, pw, strlen(pw)), 0);
    return out;
}

/* A district office with admin, clerk1, clerk2 and reg, registered
 * nationally. */
static void district(const char *office, char *data, size_t size)
{
    char *out, *key;
    json_t *h;
    snprintf(data, size, "%s/district-%s", root, office);
    free(run_ok(NULL, (const char *[]){ "init", "--data", data, "--office", office, NULL }));
    free(run_ok("nimda-tundra-ferns-61\n", (const char *[]){ "user", "add", "--data", data,
                                                             "--username", "admin", "--role",
                                                             "admin", NULL }));
    free(run_ok("1krelc-tundra-ferns-61\n",
                (const char *[]){ "user", "add", "--data", data, "--username", "clerk1", "--role",
                                  "clerk", "--user", "admin", "--password-file", pw_admin, NULL }));
    free(run_ok("2krelc-tundra-ferns-62\n",
                (const char *[]){ "user", "add", "--data", data, "--username", "clerk2", "--role",
                                  "clerk", "--user", "admin", "--password-file", pw_admin, NULL }));
    free(run_ok("rartsiger-tundra-63\n",
                (const char *[]){ "user", "add", "--data", data, "--username", "reg", "--role",
                                  "registrar,auditor", "--user", "admin", "--password-file",
                                  pw_admin, NULL }));
    out = run_ok(NULL, (const char *[]){ "audit", "head", "--data", data, NULL });
    h = json_loads(out, 0, NULL);
    assert_non_null(h);
    key = strdup(json_string_value(json_object_get(h, "office_public_key")));
    json_decref(h);
    free(out);
    free(run_ok(NULL, (const char *[]){ "national", "office-add", "--pg", pg_url, "--office",
                                        office, "--key", key, NULL }));
    free(key);
}

static char *record_json(const char *given, const char *date)
{
    json_t *r = json_deep_copy(example);
    char *s;
    json_object_set_new(json_object_get(r, "child"), "given_names", json_string(given));
    json_object_set_new(json_object_get(r, "birth"), "date", json_string(date));
    json_object_del(r, "registration_date");
    s = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    return s;
}

/* Draft and verify a birth in DATA: its record id (malloc'd). */
static char *draft_verified(const char *data, const char *given, const char *date)
{
    char *rec = record_json(given, date), *id, *nl;
    id = run_ok(rec, (const char *[]){ "record", "draft", "--data", data, "--user", "clerk1",
                                       "--password-file", pw_c1, NULL });
    if ((nl = strchr(id, '\n')) != NULL)
        *nl = '\0';
    free(run_ok(rec, (const char *[]){ "record", "verify", id, "--data", data, "--user", "clerk2",
                                       "--password-file", pw_c2, NULL }));
    free(rec);
    return id;
}

/* Register record ID; 0 and its UIN, or the exit status with stderr in UIN's
 * place ignored. */
static int try_register(const char *data, const char *id, char uin[16], char **errout)
{
    struct proc_result r;
    int st;
    assert_int_equal(civreg_run(NULL, &r,
                                (const char *[]){ "record", "register", id, "--data", data,
                                                  "--user", "reg", "--password-file", pw_reg,
                                                  NULL }),
                     0);
    st = r.status;
    if (st == 0) {
        json_t *res = json_loads(r.out, 0, NULL);
        assert_non_null(res);
        snprintf(uin, 16, "%s", json_string_value(json_object_get(res, "uin")));
        json_decref(res);
    } else if (errout) {
        *errout = r.err;
        r.err = NULL;
    }
    proc_result_free(&r);
    return st;
}

static void register_birth(const char *data, const char *given, const char *date, char uin[16])
{
    char *id = draft_verified(data, given, date), *e = NULL;
    if (try_register(data, id, uin, &e) != 0)
        fail_msg("register %s: %s", id, e ? e : "");
    free(id);
}

/* One SQL statement on DATA's district database. */
static void district_sql(const char *data, const char *sql)
{
    char path[4400];
    sqlite3 *db = NULL;
    char *msg = NULL;
    snprintf(path, sizeof path, "%s/civreg.db", data);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("sqlite %s: %s", sql, msg ? msg : "?");
    sqlite3_close(db);
}

static long district_long(const char *data, const char *sql)
{
    char path[4400];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long v = -1;
    snprintf(path, sizeof path, "%s/civreg.db", data);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static long local_size(const char *data)
{
    char *out = run_ok(NULL, (const char *[]){ "audit", "head", "--data", data, NULL });
    json_t *h = json_loads(out, 0, NULL);
    long n = (long)json_integer_value(json_object_get(h, "tree_size"));
    json_decref(h);
    free(out);
    return n;
}

static int group_setup(void **state)
{
    char *out;
    int st;
    (void)state;
    if (sodium_init() < 0 || (root = tmp_dir("national-district")) == NULL)
        return -1;
    chmod(root, 0755);
    snprintf(pg_dir, sizeof pg_dir, "%s/pg", root);
    st = pg_cluster("start", pg_dir, pg_url, sizeof pg_url);
    if (st == 77) {
        print_message("SKIP: PostgreSQL 15 server binaries are not installed (install/deps.sh)\n");
        tmp_remove(root);
        exit(77);
    }
    if (st != 0)
        return -1;
    write_pw("admin", "nimda-tundra-ferns-61\n", pw_admin, sizeof pw_admin);
    write_pw("clerk1", "1krelc-tundra-ferns-61\n", pw_c1, sizeof pw_c1);
    write_pw("clerk2", "2krelc-tundra-ferns-62\n", pw_c2, sizeof pw_c2);
    write_pw("reg", "rartsiger-tundra-63\n", pw_reg, sizeof pw_reg);
    free(run_ok(NULL, (const char *[]){ "national", "init", "--pg", pg_url, NULL }));
    out = run_ok(NULL, (const char *[]){ "record", "draft", "--example", NULL });
    example = json_loads(out, 0, NULL);
    free(out);
    return example ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    nserve_stop();
    (void)pg_cluster("stop", pg_dir, NULL, 0);
    json_decref(example);
    if (getenv("CIVREG_KEEP_TMP") == NULL)
        tmp_remove(root);
    free(root);
    return 0;
}

/* ---- uin ---- */

static void push(const char *data, const char *const extra[], bool ok, char **errout)
{
    const char *args[16] = { "sync", "push", "--data", data, "--national", serve_url };
    int n = 6;
    for (int i = 0; extra && extra[i]; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    if (ok)
        free(run_ok(NULL, args));
    else {
        char *e = run_fail(NULL, args);
        if (errout)
            *errout = e;
        else
            free(e);
    }
}

static void uin_block(const char *data, const char *count)
{
    char *out = run_ok(NULL, (const char *[]){ "sync", "uin-block", "--count", count, "--data",
                                               data, "--national", serve_url, NULL });
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
    return psql(sql);
}

static void test_uin_blocks(void **state)
{
    char d1[4300], d2[4300], d3[4300], u[6][16], sql[512], *s, *e = NULL, *id;
    (void)state;
    nserve_start((const char *[]){ "--insecure-loopback", NULL }, "http");
    district("DU1", d1, sizeof d1);
    district("DU2", d2, sizeof d2);
    uin_block(d1, "20");
    uin_block(d2, "20");
    assert_int_equal(district_long(d1, "SELECT count(*) FROM uin_pool WHERE used_at IS NULL"),
                     20);
    /* offline: the national service is not needed to register */
    nserve_stop();
    {
        static const char *const names[6] = { "Achieng", "Baraka", "Chebet",
                                              "Dalmas",  "Wanjiru", "Kiprono" };
        static const char *const dates[6] = { "2001-01-02", "1985-06-17", "1970-11-30",
                                              "1999-03-08", "1962-09-21", "2010-12-01" };
        for (int i = 0; i < 3; i++) {
            register_birth(d1, names[i], dates[i], u[i]);
            register_birth(d2, names[3 + i], dates[3 + i], u[3 + i]);
        }
    }
    nserve_start((const char *[]){ "--insecure-loopback", NULL }, "http");
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
    assert_int_equal(psql_long("SELECT count(*) FROM uins WHERE state = 'assigned'"), 6);
    assert_int_equal(psql_long("SELECT count(*) FROM uin_collisions"), 0);
    assert_int_equal(psql_long("SELECT count(*) FROM persons WHERE office IN ('DU1', 'DU2')"), 6);

    /* a used-up block refuses registration, clearly, until a push tops it up */
    district_sql(d2, "UPDATE uin_pool SET used_at = 'test' WHERE used_at IS NULL");
    id = draft_verified(d2, "Halima", "1977-04-14");
    assert_int_not_equal(try_register(d2, id, u[0], &e), 0);
    assert_non_null(strstr(e, "used every national UIN"));
    free(e);
    push(d2, (const char *[]){ "--uin-low", "5", "--uin-block", "10", NULL }, true, NULL);
    assert_int_equal(district_long(d2, "SELECT count(*) FROM uin_pool WHERE used_at IS NULL"),
                     10);
    assert_int_equal(try_register(d2, id, u[0], NULL), 0);
    s = uin_office(u[0]);
    assert_string_equal(s, "DU2");
    free(s);
    free(id);
    push(d2, NULL, true, NULL);

    /* a UIN the nation reserved for DU1 smuggled into DU2's pool: DU2
     * assigns it offline, but the push is refused and reported */
    s = psql("SELECT uin FROM uins WHERE office = 'DU1' AND state = 'reserved' ORDER BY uin"
             " LIMIT 1");
    district_sql(d2, "UPDATE uin_pool SET used_at = 'test' WHERE used_at IS NULL");
    snprintf(sql, sizeof sql,
             "INSERT INTO uin_pool(uin, block, received_at) VALUES ('%s', 'forged', '0')", s);
    district_sql(d2, sql);
    register_birth(d2, "Nyokabi", "1991-07-25", u[1]);
    assert_string_equal(u[1], s);
    push(d2, NULL, false, &e);
    assert_non_null(strstr(e, "UIN collision"));
    free(e);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM persons WHERE uin = '%s'", s);
    assert_int_equal(psql_long(sql), 0);
    {
        char *out = run_ok(NULL, (const char *[]){ "national", "status", "--pg", pg_url, NULL });
        assert_non_null(strstr(out, "uin_collisions"));
        assert_non_null(strstr(out, s));
        assert_non_null(strstr(out, "DU1 (reserved)"));
        free(out);
    }
    free(s);

    /* an old UIN already assigned by DU1, arriving from a third office */
    district("DU3", d3, sizeof d3);
    snprintf(sql, sizeof sql,
             "INSERT INTO uin_pool(uin, block, received_at) VALUES ('%s', 'old', '0')", u[2]);
    district_sql(d3, sql);
    register_birth(d3, "Otieno", "1956-02-11", u[1]);
    assert_string_equal(u[1], u[2]);
    push(d3, NULL, false, &e);
    assert_non_null(strstr(e, "UIN collision"));
    free(e);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM uin_collisions WHERE office = 'DU3' AND uin = '%s'", u[2]);
    assert_int_equal(psql_long(sql), 1);
    s = uin_office(u[2]);
    assert_string_equal(s, "DU1");
    free(s);
    nserve_stop();
}

/* ---- bgsync ---- */

struct login {
    char cookie[160];
    char csrf[80];
};

static void sign_in(int port, const char *user, const char *password, struct login *l)
{
    struct http_response r;
    char body[256], sc[256];
    json_t *j;
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", user, password);
    assert_int_equal(http_request(port, "POST", "/api/v1/session",
                                  "Content-Type: application/json\r\n", body, strlen(body), &r),
                     0);
    if (r.status != 200 || http_header(&r, "Set-Cookie", sc, sizeof sc) != 0)
        fail_msg("sign in as %s: %d %s", user, r.status, r.body);
    *strchr(sc, ';') = '\0';
    snprintf(l->cookie, sizeof l->cookie, "Cookie: %.100s\r\n", sc);
    j = json_loadb(r.body, r.body_len, 0, NULL);
    snprintf(l->csrf, sizeof l->csrf, "%s", json_string_value(json_object_get(j, "csrf_token")));
    json_decref(j);
    http_response_free(&r);
}

static int web_start(const char *data, pid_t *pid)
{
    char *argv[] = { (char *)CIVREG_BIN, (char *)"serve", (char *)"--data", (char *)data,
                     (char *)"--listen", (char *)"127.0.0.1:0", NULL };
    char line[512];
    const char *p;
    int fd;
    assert_int_equal(proc_spawn(argv, pid, &fd), 0);
    assert_int_equal(proc_read_line(fd, line, sizeof line, 60), 0);
    close(fd);
    p = strstr(line, "127.0.0.1:");
    assert_non_null(p);
    return (int)strtol(p + 10, NULL, 10);
}

static void web_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    assert_int_equal(proc_wait(pid, 60), 0);
}

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
    assert_true(asprintf(&text, "%s\nnational_url = %s\n", conf, url) > 0);
    assert_int_equal(file_write(path, text, strlen(text)), 0);
    free(text);
    free(conf);
}

static json_t *sync_status(const char *data)
{
    char *out = run_ok(NULL, (const char *[]){ "sync", "status", "--data", data, NULL });
    json_t *j = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(j);
    return j;
}

static void test_background_sync(void **state)
{
    char ds[4300], url[64], path[256], uin[16], sql[256], *id;
    struct http_response r;
    struct login reg;
    json_t *st = NULL;
    pid_t web;
    int port, i;
    (void)state;

    district("DS", ds, sizeof ds);
    /* the national tier down: the server starts, backs off, still answers */
    snprintf(url, sizeof url, "http://127.0.0.1:%d", dead_port());
    set_national_url(ds, url);
    port = web_start(ds, &web);
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
    web_stop(web);

    /* the national tier up: a birth registered through the web API reaches
     * PostgreSQL on its own */
    nserve_start((const char *[]){ "--insecure-loopback", NULL }, "http");
    set_national_url(ds, serve_url);
    port = web_start(ds, &web);
    id = draft_verified(ds, "Sync", "2004-04-05");
    sign_in(port, "reg", "rartsiger-tundra-63", &reg);
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
    for (i = 0; i < 300 && psql_long(sql) != 1; i++)
        usleep(100000);
    assert_int_equal(psql_long(sql), 1);
    assert_int_equal(psql_long("SELECT tree_size FROM offices WHERE office = 'DS'"),
                     local_size(ds));
    st = sync_status(ds);
    assert_string_equal(json_string_value(json_object_get(st, "state")), "in sync");
    assert_int_equal(json_integer_value(json_object_get(st, "national_size")), local_size(ds));
    json_decref(st);
    web_stop(web);
    nserve_stop();
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
    snprintf(cert, sizeof cert, "%s/national.pem", root);
    snprintf(key, sizeof key, "%s/national.key", root);
    snprintf(other, sizeof other, "%s/other.pem", root);
    snprintf(okey, sizeof okey, "%s/other.key", root);
    make_cert(key, cert);
    make_cert(okey, other);
    district("DT", dt, sizeof dt);
    register_birth(dt, "Tessa", "2005-05-06", uin);

    /* plain HTTP needs the explicit flag, and then only on loopback */
    e = run_fail(NULL, (const char *[]){ "national", "serve", "--pg", pg_url, "--listen",
                                         "127.0.0.1:0", NULL });
    assert_non_null(strstr(e, "TLS is required"));
    free(e);
    e = run_fail(NULL, (const char *[]){ "national", "serve", "--pg", pg_url, "--listen",
                                         "0.0.0.0:0", "--insecure-loopback", NULL });
    assert_non_null(strstr(e, "loopback"));
    free(e);
    /* the client refuses plain http to anything but loopback */
    e = run_fail(NULL, (const char *[]){ "sync", "push", "--data", dt, "--national",
                                         "http://192.0.2.1:8090", NULL });
    assert_non_null(strstr(e, "plain http is refused"));
    free(e);

    nserve_start((const char *[]){ "--tls-cert", cert, "--tls-key", key, NULL }, "https");
    /* a certificate from another CA, or the system's CAs: refused, nothing sent */
    e = run_fail(NULL, (const char *[]){ "sync", "push", "--data", dt, "--national", serve_url,
                                         "--ca", other, NULL });
    assert_non_null(strstr(e, "not trusted"));
    free(e);
    e = run_fail(NULL,
                 (const char *[]){ "sync", "push", "--data", dt, "--national", serve_url, NULL });
    assert_non_null(strstr(e, "not trusted"));
    free(e);
    assert_int_equal(psql_long("SELECT tree_size FROM offices WHERE office = 'DT'"), 0);
    /* against the right CA: the push goes through TLS */
    free(run_ok(NULL, (const char *[]){ "sync", "push", "--data", dt, "--national", serve_url,
                                        "--ca", cert, NULL }));
    assert_int_equal(psql_long("SELECT tree_size FROM offices WHERE office = 'DT'"),
                     local_size(dt));
    /* a plain-http client to the TLS port gets nothing usable */
    {
        char plain[64];
        snprintf(plain, sizeof plain, "http://%s", serve_url + strlen("https://"));
        e = run_fail(NULL,
                     (const char *[]){ "sync", "push", "--data", dt, "--national", plain, NULL });
        free(e);
    }
    nserve_stop();
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
