/* Integration: the national tier against a real PostgreSQL 15 server that
 * the test starts itself (tests/support/pg_cluster.sh: initdb + pg_ctl in a
 * temporary folder, as the postgres user when run as root), the real
 * `civreg national serve` on loopback and real district data directories.
 *
 *   basic     three districts (one offline for a while) sync; a person of B
 *             is fetched by A with an offline-verifiable bundle; a death
 *             synced from C shows for A; the same birth in two districts
 *             becomes a duplicate case; a district that rewrote history is
 *             refused with a fork alarm naming the position; a forged
 *             request signature, a replayed request, a wrong office key and
 *             a forged event signature are refused. A passport office in A
 *             enrols a person of B from the national answer (verified, kept
 *             as evidence); a forged record signature or inclusion proof in
 *             that answer is refused; a death synced from C refuses A's
 *             enrolment and approval; a duplicate case is resolved by a
 *             signed event of B's registrar, recorded nationally.
 *   kill      kill -9 of the district's push and of the national service at
 *             random points of a 20,000-event push: afterwards every event is
 *             there exactly once and the national root equals the district's.
 *   failover  the primary killed in the middle of a push, the streaming
 *             standby promoted: the next push completes with nothing lost.
 *
 * Exit 77 (CTest: skipped) only when the PostgreSQL server binaries are
 * absent; install/deps.sh installs them. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "support/support.h"

#define PG_CLUSTER CIVREG_SOURCE_DIR "/tests/support/pg_cluster.sh"

static char *root;
static char pg_dir[4200], pg_url[4400], pw_admin[4200], pw_c1[4200], pw_c2[4200], pw_reg[4200];
static pid_t serve_pid = -1;
static int serve_port;
static char serve_url[64];
static json_t *example;

/* ---- helpers ---- */

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

/* Run and expect failure; returns stderr (malloc'd). */
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

static int pg_cluster(const char *cmd, const char *dir, const char *mode, const char *primary,
                      char *url_out, size_t url_size)
{
    char *argv[] = { (char *)PG_CLUSTER, (char *)cmd, (char *)dir, (char *)mode,
                     (char *)primary, NULL };
    struct proc_result r;
    int st;
    if (mode == NULL)
        argv[3] = NULL;
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

/* psql -Atc SQL: the single value (malloc'd). */
static char *psql(const char *url, const char *sql)
{
    char *argv[] = { (char *)"/usr/bin/psql", (char *)url, (char *)"-Atq", (char *)"-c",
                     (char *)sql, NULL };
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

static long psql_long(const char *url, const char *sql)
{
    char *s = psql(url, sql);
    long v = strtol(s, NULL, 10);
    free(s);
    return v;
}

static void serve_start(const char *url)
{
    char *argv[] = { (char *)CIVREG_BIN, (char *)"national", (char *)"serve", (char *)"--pg",
                     (char *)url, (char *)"--listen", (char *)"127.0.0.1:0",
                     (char *)"--insecure-loopback", NULL };
    char line[256];
    const char *p;
    int fd;
    assert_int_equal(proc_spawn(argv, &serve_pid, &fd), 0);
    assert_int_equal(proc_read_line(fd, line, sizeof line, 60), 0);
    close(fd);
    p = strstr(line, "127.0.0.1:");
    assert_non_null(p);
    serve_port = (int)strtol(p + 10, NULL, 10);
    snprintf(serve_url, sizeof serve_url, "http://127.0.0.1:%d", serve_port);
}

static void serve_stop(int sig)
{
    if (serve_pid > 0) {
        kill(serve_pid, sig);
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

/* A district office with admin, clerk1, clerk2 and reg (registrar, auditor). */
static void district(const char *office, char *data, size_t size)
{
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
}

/* The office public key of DATA (64 hex, malloc'd). */
static char *office_key(const char *data)
{
    char *out = run_ok(NULL, (const char *[]){ "audit", "head", "--data", data, NULL });
    json_t *h = json_loads(out, 0, NULL);
    char *k;
    assert_non_null(h);
    k = strdup(json_string_value(json_object_get(h, "office_public_key")));
    json_decref(h);
    free(out);
    return k;
}

static void office_add(const char *office, const char *key)
{
    free(run_ok(NULL, (const char *[]){ "national", "office-add", "--pg", pg_url, "--office",
                                        office, "--key", key, NULL }));
}

/* A record JSON: the example with GIVEN and the birth date DATE. */
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

/* Draft, verify and register a birth in DATA; the UIN into UIN. */
static void register_birth(const char *data, const char *given, const char *date, char uin[16])
{
    char *rec = record_json(given, date), *id, *out, *nl;
    json_t *res;
    id = run_ok(rec, (const char *[]){ "record", "draft", "--data", data, "--user", "clerk1",
                                       "--password-file", pw_c1, NULL });
    if ((nl = strchr(id, '\n')) != NULL)
        *nl = '\0';
    free(run_ok(rec, (const char *[]){ "record", "verify", id, "--data", data, "--user", "clerk2",
                                       "--password-file", pw_c2, NULL }));
    out = run_ok(NULL, (const char *[]){ "record", "register", id, "--data", data, "--user", "reg",
                                         "--password-file", pw_reg, NULL });
    res = json_loads(out, 0, NULL);
    assert_non_null(res);
    snprintf(uin, 16, "%s", json_string_value(json_object_get(res, "uin")));
    json_decref(res);
    free(out);
    free(id);
    free(rec);
}

static void push_ok(const char *data)
{
    free(run_ok(NULL, (const char *[]){ "sync", "push", "--data", data, "--national", serve_url,
                                        NULL }));
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

static char *local_root(const char *data)
{
    char *out = run_ok(NULL, (const char *[]){ "audit", "head", "--data", data, NULL });
    json_t *h = json_loads(out, 0, NULL);
    char *s = strdup(json_string_value(json_object_get(h, "root_hash")));
    json_decref(h);
    free(out);
    return s;
}

static void copy_dir(const char *from, const char *to)
{
    char *argv[] = { (char *)"/bin/cp", (char *)"-a", (char *)from, (char *)to, NULL };
    struct proc_result r;
    assert_int_equal(proc_run(argv, NULL, 0, 120, &r), 0);
    assert_int_equal(r.status, 0);
    proc_result_free(&r);
}

/* ---- set-up: one PostgreSQL server, the schema, the service ---- */

static int group_setup(void **state)
{
    char *out;
    int st;
    (void)state;
    if (sodium_init() < 0 || (root = tmp_dir("national")) == NULL)
        return -1;
    chmod(root, 0755);
    snprintf(pg_dir, sizeof pg_dir, "%s/pg", root);
    st = pg_cluster("start", pg_dir, NULL, NULL, pg_url, sizeof pg_url);
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
    if (example == NULL)
        return -1;
    serve_start(pg_url);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    serve_stop(SIGTERM);
    (void)pg_cluster("stop", pg_dir, NULL, NULL, NULL, 0);
    json_decref(example);
    if (getenv("CIVREG_KEEP_TMP") == NULL)
        tmp_free(&root);
    return 0;
}

/* ---- basic ---- */

static char data_a[4300], data_b[4300], data_c[4300];
static char uin_b[16], uin_c[16];

static void test_three_districts(void **state)
{
    char *ka, *kb, *kc, *out, path[4400], *e;
    json_t *bundle;
    char uin_a[16];
    (void)state;

    district("DA", data_a, sizeof data_a);
    district("DB", data_b, sizeof data_b);
    district("DC", data_c, sizeof data_c);
    ka = office_key(data_a), kb = office_key(data_b), kc = office_key(data_c);
    office_add("DA", ka);
    office_add("DB", kb);
    office_add("DC", kc);

    register_birth(data_a, "Achieng", "1990-01-02", uin_a);
    register_birth(data_b, "Baraka", "1991-02-03", uin_b);
    push_ok(data_a);
    push_ok(data_b);
    /* C works offline: births and a death, then catches up in one push */
    register_birth(data_c, "Chebet", "1992-03-04", uin_c);
    free(run_ok(NULL, (const char *[]){ "death", "register", uin_c, "--date", "2020-05-06",
                                        "--locality", "Kisumu", "--district", "Kisumu Central",
                                        "--informant", "Grace Otieno", "--data", data_c, "--user",
                                        "reg", "--password-file", pw_reg, NULL }));
    assert_int_equal(psql_long(pg_url, "SELECT tree_size FROM offices WHERE office = 'DC'"), 0);
    push_ok(data_c);
    assert_int_equal(psql_long(pg_url, "SELECT tree_size FROM offices WHERE office = 'DC'"),
                     local_size(data_c));
    /* a second push adds nothing */
    push_ok(data_c);
    assert_int_equal(psql_long(pg_url, "SELECT count(*) FROM events WHERE office = 'DC'"),
                     local_size(data_c));

    /* A finds the person of B, with a bundle verified offline against B's key */
    snprintf(path, sizeof path, "%s/person-b.json", root);
    free(run_ok(NULL, (const char *[]){ "sync", "person", uin_b, "--data", data_a, "--national",
                                        serve_url, "--out", path, NULL }));
    out = run_ok(NULL,
                 (const char *[]){ "audit", "verify-bundle", path, "--office-key", kb, NULL });
    assert_non_null(strstr(out, "ok:"));
    free(out);
    /* the same bundle under another office's key fails */
    e = run_fail(NULL, (const char *[]){ "audit", "verify-bundle", path, "--office-key", ka, NULL });
    free(e);
    bundle = json_load_file(path, 0, NULL);
    assert_non_null(bundle);
    assert_string_equal(json_string_value(json_object_get(json_object_get(bundle, "national"),
                                                          "office")),
                        "DB");
    assert_true(json_is_false(json_object_get(json_object_get(bundle, "national"), "deceased")));
    json_decref(bundle);

    /* the death registered in C shows for A */
    snprintf(path, sizeof path, "%s/person-c.json", root);
    free(run_ok(NULL, (const char *[]){ "sync", "person", uin_c, "--data", data_a, "--national",
                                        serve_url, "--out", path, NULL }));
    bundle = json_load_file(path, 0, NULL);
    assert_true(json_is_true(json_object_get(json_object_get(bundle, "national"), "deceased")));
    json_decref(bundle);

    /* national search across offices on the district name keys */
    out = run_ok(NULL, (const char *[]){ "national", "search", "--pg", pg_url, "Baraka", NULL });
    assert_non_null(strstr(out, uin_b));
    free(out);
    /* national trace = the same bundle, from the national store */
    snprintf(path, sizeof path, "%s/trace-c.json", root);
    free(run_ok(NULL, (const char *[]){ "national", "trace", uin_c, "--pg", pg_url, "--out", path,
                                        NULL }));
    out = run_ok(NULL,
                 (const char *[]){ "audit", "verify-bundle", path, "--office-key", kc, NULL });
    free(out);
    /* a block of national UINs for A: valid, distinct, reserved for DA */
    {
        json_t *blk, *u;
        size_t i;
        out = run_ok(NULL, (const char *[]){ "sync", "uin-block", "--count", "50", "--data",
                                             data_a, "--national", serve_url, NULL });
        /* the block is stored in the district (test_national_district) */
        blk = json_loads(out, 0, NULL);
        assert_non_null(blk);
        assert_int_equal(json_integer_value(json_object_get(blk, "received")), 50);
        (void)i, (void)u;
        json_decref(blk);
        free(out);
        assert_int_equal(psql_long(pg_url, "SELECT count(*) FROM uins WHERE office = 'DA' AND"
                                           " state = 'reserved'"),
                         50);
        assert_int_equal(psql_long(pg_url, "SELECT count(*) FROM uins WHERE state = 'assigned'"),
                         3);
    }
    free(ka), free(kb), free(kc);
}


/* ---- the passport office against the nation ---- */

static char pw_enrol[4200], pw_appr[4200];

/* The first check named NAME of an application (JSON), or NULL. */
static const json_t *check_of(const json_t *app, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(app, "checks"), i, c)
        if (strcmp(json_string_value(json_object_get(c, "check")), name) == 0)
            return c;
    return NULL;
}

static char *enrol_args_run(bool expect_ok, const char *uin)
{
    char photo[4200];
    const char *args[] = { "application", "enrol", "--uin", uin, "--photo", photo, "--national",
                           serve_url, "--data", data_a, "--user", "enrola", "--password-file",
                           pw_enrol, NULL };
    snprintf(photo, sizeof photo, "%s/issuance/portrait.jpg", CIVREG_TEST_DATA);
    return expect_ok ? run_ok(NULL, args) : run_fail(NULL, args);
}

/* psql UPDATE (no result). */
static void psql_do(const char *sql)
{
    free(psql(pg_url, sql));
}

static void test_enrol_from_nation(void **state)
{
    char uin_b2[16], uin_c2[16], sql[1024], *out, *e, *kb, path[4400], blob[4600];
    json_t *app, *bundle;
    const json_t *chk;
    const char *detail, *h;
    (void)state;

    write_pw("enrola", "lorne-tundra-ferns-64\n", pw_enrol, sizeof pw_enrol);
    write_pw("appra", "rppa-tundra-ferns-65\n", pw_appr, sizeof pw_appr);
    free(run_ok("lorne-tundra-ferns-64\n",
                (const char *[]){ "user", "add", "--data", data_a, "--username", "enrola", "--role",
                                  "enrolment_officer", "--user", "admin", "--password-file",
                                  pw_admin, NULL }));
    free(run_ok("rppa-tundra-ferns-65\n",
                (const char *[]){ "user", "add", "--data", data_a, "--username", "appra", "--role",
                                  "approver", "--user", "admin", "--password-file", pw_admin,
                                  NULL }));
    kb = office_key(data_b);

    /* without the national tier, A does not know B's person */
    {
        char photo[4200];
        snprintf(photo, sizeof photo, "%s/issuance/portrait.jpg", CIVREG_TEST_DATA);
        e = run_fail(NULL, (const char *[]){ "application", "enrol", "--uin", uin_b, "--photo",
                                             photo, "--data", data_a, "--user", "enrola",
                                             "--password-file", pw_enrol, NULL });
        assert_non_null(strstr(e, uin_b));
        free(e);
    }

    /* a person of B enrolled in A: the national answer verified and kept */
    out = enrol_args_run(true, uin_b);
    app = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(app);
    assert_string_equal(json_string_value(json_object_get(app, "status")), "submitted");
    chk = check_of(app, "national_evidence");
    assert_non_null(chk);
    detail = json_string_value(json_object_get(chk, "detail"));
    assert_non_null(strstr(detail, "office DB"));
    h = json_string_value(json_object_get(chk, "evidence"));
    assert_non_null(h);
    assert_int_equal(strlen(h), 64);
    snprintf(blob, sizeof blob, "%s/blobs/%.2s/%.2s/%.64s", data_a, h, h + 2, h);
    /* the evidence kept is the district's bundle: verified offline with B's
     * key, refused once one proof node is changed */
    out = run_ok(NULL, (const char *[]){ "audit", "verify-bundle", blob, "--office-key", kb, NULL });
    free(out);
    bundle = json_load_file(blob, 0, NULL);
    assert_non_null(bundle);
    {
        json_t *ev, *proof = NULL;
        size_t i;
        json_array_foreach(json_object_get(bundle, "events"), i, ev)
            if (json_array_size(json_object_get(ev, "inclusion_proof")) > 0)
                proof = json_object_get(ev, "inclusion_proof");
        assert_non_null(proof);
        json_array_set_new(proof, 0,
                           json_string("00000000000000000000000000000000000000000000000000000000"
                                       "00000000"));
        snprintf(path, sizeof path, "%s/tampered-evidence.json", root);
        assert_int_equal(json_dump_file(bundle, path, JSON_COMPACT), 0);
        e = run_fail(NULL,
                     (const char *[]){ "audit", "verify-bundle", path, "--office-key", kb, NULL });
        assert_non_null(strstr(e, "problem"));
        free(e);
    }
    json_decref(bundle);
    /* the whole of A's log, the application with it, still verifies */
    free(run_ok(NULL, (const char *[]){ "audit", "verify", "--data", data_a, NULL }));
    json_decref(app);

    /* a forged national answer is refused before anything is created */
    register_birth(data_b, "Bahati", "1996-07-08", uin_b2);
    push_ok(data_b);
    /* 1. a record signature changed in the national store */
    snprintf(sql, sizeof sql,
             "UPDATE events SET signature = translate(signature, '0123456789abcdef',"
             " '123456789abcdef0') WHERE office = 'DB' AND type = 'record.register' AND"
             " body LIKE '%%%s%%'",
             uin_b2);
    psql_do(sql);
    e = enrol_args_run(false, uin_b2);
    assert_non_null(strstr(e, "national evidence refused"));
    free(e);
    snprintf(sql, sizeof sql,
             "UPDATE events SET signature = translate(signature, '123456789abcdef0',"
             " '0123456789abcdef') WHERE office = 'DB' AND type = 'record.register' AND"
             " body LIKE '%%%s%%'",
             uin_b2);
    psql_do(sql);
    /* 2. a forged inclusion proof: the national tier's copy of leaf 0 changed */
    psql_do("UPDATE events SET leaf_hash = translate(leaf_hash, '0123456789abcdef',"
            " '123456789abcdef0') WHERE office = 'DB' AND seq = 0");
    e = enrol_args_run(false, uin_b2);
    assert_non_null(strstr(e, "national evidence refused"));
    assert_non_null(strstr(e, "not included"));
    free(e);
    psql_do("UPDATE events SET leaf_hash = translate(leaf_hash, '123456789abcdef0',"
            " '0123456789abcdef') WHERE office = 'DB' AND seq = 0");
    {
        /* nothing was created for the refused answers */
        char *list = run_ok(NULL, (const char *[]){ "application", "list", "--data", data_a,
                                                    "--user", "enrola", "--password-file",
                                                    pw_enrol, NULL });
        assert_null(strstr(list, uin_b2));
        free(list);
    }
    /* restored, the same person enrols */
    free(enrol_args_run(true, uin_b2));

    /* a death registered in C refuses enrolment in A */
    e = enrol_args_run(false, uin_c);
    assert_non_null(strstr(e, "deceased"));
    free(e);

    /* a person of C enrolled in A, then a death registered in C and synced:
     * A's approval is refused */
    register_birth(data_c, "Chausiku", "1997-08-09", uin_c2);
    push_ok(data_c);
    out = enrol_args_run(true, uin_c2);
    app = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(app);
    free(run_ok(NULL, (const char *[]){ "death", "register", uin_c2, "--date", "2025-01-02",
                                        "--locality", "Kisumu", "--district", "Kisumu Central",
                                        "--informant", "Grace Otieno", "--data", data_c, "--user",
                                        "reg", "--password-file", pw_reg, NULL }));
    push_ok(data_c);
    out = run_ok(NULL, (const char *[]){ "sync", "deaths", "--data", data_a, "--national",
                                         serve_url, NULL });
    assert_non_null(strstr(out, "received"));
    free(out);
    e = run_fail(NULL, (const char *[]){ "application", "approve",
                                         json_string_value(json_object_get(app, "id")), "--data",
                                         data_a, "--user", "appra", "--password-file", pw_appr,
                                         NULL });
    assert_non_null(strstr(e, "deceased"));
    free(e);
    /* a second pull adds nothing */
    out = run_ok(NULL, (const char *[]){ "sync", "deaths", "--data", data_a, "--national",
                                         serve_url, NULL });
    assert_non_null(strstr(out, "0 deaths"));
    free(out);
    json_decref(app);
    free(kb);
}

static void test_cross_district_duplicate(void **state)
{
    char u1[16], u2[16], *out;
    (void)state;
    register_birth(data_a, "Wanjiku Imani", "1985-06-07", u1);
    register_birth(data_b, "Wanjiku Imani", "1985-06-07", u2);
    push_ok(data_a);
    push_ok(data_b);
    out = run_ok(NULL, (const char *[]){ "national", "duplicates", "--pg", pg_url, NULL });
    assert_non_null(strstr(out, "\"office_a\":\"DA\""));
    assert_non_null(strstr(out, "\"office_b\":\"DB\""));
    free(out);
    /* both registrars see the case; B's resolves it with a signed event
     * that the national tier records; an office not party to it cannot */
    {
        json_t *cases, *c = NULL, *x;
        size_t i;
        char id[24], *e;
        long seq;
        out = run_ok(NULL, (const char *[]){ "sync", "duplicates", "--data", data_a,
                                             "--national", serve_url, NULL });
        assert_non_null(strstr(out, u1));
        free(out);
        out = run_ok(NULL, (const char *[]){ "sync", "duplicates", "--data", data_b,
                                             "--national", serve_url, NULL });
        cases = json_loads(out, 0, NULL);
        free(out);
        assert_non_null(cases);
        json_array_foreach(json_object_get(cases, "cases"), i, x)
            if (strcmp(json_string_value(json_object_get(x, "uin_b")), u2) == 0 ||
                strcmp(json_string_value(json_object_get(x, "uin_a")), u2) == 0)
                c = x;
        assert_non_null(c);
        assert_string_equal(json_string_value(json_object_get(c, "status")), "open");
        snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(c, "id")));
        e = run_fail(NULL, (const char *[]){ "sync", "resolve", id, "--same", "--reason",
                                             "not ours", "--data", data_c, "--national",
                                             serve_url, "--user", "reg", "--password-file",
                                             pw_reg, NULL });
        assert_non_null(strstr(e, "no duplicate case"));
        free(e);
        out = run_ok(NULL, (const char *[]){ "sync", "resolve", id, "--same", "--reason",
                                             "one birth registered in both districts: same "
                                             "parents, same hospital",
                                             "--data", data_b, "--national", serve_url, "--user",
                                             "reg", "--password-file", pw_reg, NULL });
        free(out);
        json_decref(cases);
        {
            char sql[256], *st;
            snprintf(sql, sizeof sql, "SELECT status FROM dup_cases WHERE id = %s", id);
            st = psql(pg_url, sql);
            assert_string_equal(st, "same");
            free(st);
            snprintf(sql, sizeof sql,
                     "SELECT o.seq FROM event_objects o JOIN events e ON e.office = o.office"
                     " AND e.seq = o.seq WHERE o.office = 'DB' AND o.kind = 'dup_case'"
                     " AND e.type = 'national.duplicate'");
            seq = psql_long(pg_url, sql);
            assert_true(seq > 0);
        }
        /* A's registrar sees the resolution, with the signed event */
        out = run_ok(NULL, (const char *[]){ "sync", "duplicates", "--data", data_a,
                                             "--national", serve_url, NULL });
        assert_non_null(strstr(out, "\"status\":\"same\""));
        assert_non_null(strstr(out, "\"office\":\"DB\""));
        free(out);
        /* and B's log still verifies with the new event in it */
        free(run_ok(NULL, (const char *[]){ "audit", "verify", "--data", data_b, NULL }));
    }
}

static void test_fork_refused(void **state)
{
    char data_f[4300], saved[4400], given[32], *e, *out;
    long pos;
    (void)state;

    district("DF", data_f, sizeof data_f);
    {
        char *k = office_key(data_f);
        office_add("DF", k);
        free(k);
    }
    register_birth(data_f, "Faraji", "1993-04-05", (char[16]){ 0 });
    snprintf(saved, sizeof saved, "%s.saved", data_f);
    copy_dir(data_f, saved);
    pos = local_size(data_f);
    register_birth(data_f, "Fatuma", "1994-05-06", (char[16]){ 0 });
    push_ok(data_f);
    /* the office "restores" its old copy and writes another history */
    tmp_remove(data_f);
    assert_int_equal(rename(saved, data_f), 0);
    snprintf(given, sizeof given, "Furaha");
    register_birth(data_f, given, "1995-06-07", (char[16]){ 0 });
    snprintf(given, sizeof given, "Zawadi Nyokabi");
    register_birth(data_f, given, "1979-11-21", (char[16]){ 0 });
    e = run_fail(NULL, (const char *[]){ "sync", "push", "--data", data_f, "--national",
                                         serve_url, NULL });
    assert_non_null(strstr(e, "forked"));
    free(e);
    out = run_ok(NULL, (const char *[]){ "national", "status", "--pg", pg_url, NULL });
    {
        char want[64];
        snprintf(want, sizeof want, "\"position\":%ld", pos);
        if (strstr(out, want) == NULL)
            fail_msg("status does not name position %ld: %s", pos, out);
    }
    free(out);
    /* both heads kept */
    assert_int_equal(psql_long(pg_url, "SELECT count(*) FROM forks WHERE office = 'DF' AND"
                                       " accepted_body IS NOT NULL AND district_body <> ''"),
                     1);
    /* and the office stays refused */
    e = run_fail(NULL, (const char *[]){ "sync", "push", "--data", data_f, "--national",
                                         serve_url, NULL });
    assert_non_null(strstr(e, "fork"));
    free(e);
}

/* ---- hand-made requests of a test office TST ---- */

static unsigned char tst_pk[32], tst_sk[64];

static void canonical_head(char *out, size_t size, const char *root_hex, const char *time_s,
                           long tree_size)
{
    snprintf(out, size,
             "{\"office\":\"TST\",\"root_hash\":\"%s\",\"time\":\"%s\",\"tree_size\":%ld,"
             "\"type\":\"civreg.tree_head.v1\"}",
             root_hex, time_s, tree_size);
}

/* POST BODY signed as TST (or with SIG_OVERRIDE, and NONCE when given). */
static int post_signed(const char *path, const char *body, const unsigned char *sk,
                       const char *nonce_in, char *headers_out, size_t hsize,
                       struct http_response *resp)
{
    unsigned char h[32], sig[64], nraw[16];
    char hh[65], nonce[33], ts[24], msg[600], sig_hex[129], headers[1024];
    crypto_hash_sha256(h, (const unsigned char *)body, strlen(body));
    sodium_bin2hex(hh, sizeof hh, h, sizeof h);
    randombytes_buf(nraw, sizeof nraw);
    sodium_bin2hex(nonce, sizeof nonce, nraw, sizeof nraw);
    if (nonce_in)
        snprintf(nonce, sizeof nonce, "%s", nonce_in);
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    snprintf(msg, sizeof msg, "civreg-national-v1\nPOST\n%s\nTST\n%s\n%s\n%s", path, ts, nonce, hh);
    crypto_sign_detached(sig, NULL, (const unsigned char *)msg, strlen(msg), sk);
    sodium_bin2hex(sig_hex, sizeof sig_hex, sig, sizeof sig);
    snprintf(headers, sizeof headers,
             "Content-Type: application/json\r\nX-Civreg-Office: TST\r\nX-Civreg-Time: %s\r\n"
             "X-Civreg-Nonce: %s\r\nX-Civreg-Signature: %s\r\n",
             ts, nonce, sig_hex);
    if (headers_out)
        snprintf(headers_out, hsize, "%s", headers);
    return http_request(serve_port, "POST", path, headers, body, strlen(body), resp);
}

/* A one-event push of TST: event 0 signed by the office key; FORGE flips a
 * bit of the event signature after the leaf was computed from it. */
static char *tst_push_body(bool forge)
{
    char pkhex[65], ev[1024], sighex[129], leafhex[65], head[512], hsig[129], *out;
    unsigned char sig[64], leaf[32], hs[64];
    crypto_hash_sha256_state st;
    json_t *req;
    sodium_bin2hex(pkhex, sizeof pkhex, tst_pk, sizeof tst_pk);
    snprintf(ev, sizeof ev,
             "{\"actor\":\"office:TST\",\"data\":{\"office\":\"TST\",\"public_key\":\"%s\"},"
             "\"objects\":[],\"office\":\"TST\",\"seq\":0,\"time\":\"2026-01-01T00:00:00Z\","
             "\"type\":\"office.key\",\"v\":1}",
             pkhex);
    crypto_sign_detached(sig, NULL, (const unsigned char *)ev, strlen(ev), tst_sk);
    if (forge)
        sig[5] ^= 1;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)"\x00", 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)ev, strlen(ev));
    crypto_hash_sha256_update(&st, sig, sizeof sig);
    crypto_hash_sha256_final(&st, leaf);
    sodium_bin2hex(sighex, sizeof sighex, sig, sizeof sig);
    sodium_bin2hex(leafhex, sizeof leafhex, leaf, sizeof leaf);
    canonical_head(head, sizeof head, leafhex, "2026-01-01T00:00:01Z", 1);
    crypto_sign_detached(hs, NULL, (const unsigned char *)head, strlen(head), tst_sk);
    sodium_bin2hex(hsig, sizeof hsig, hs, sizeof hs);
    req = json_pack("{s:i, s:[{s:i, s:s, s:s}], s:[], s:{s:i, s:s, s:s, s:s}, s:[]}", "from", 0,
                    "events", "seq", 0, "body", ev, "signature", sighex, "versions", "head",
                    "tree_size", 1, "root_hash", leafhex, "time", "2026-01-01T00:00:01Z",
                    "signature", hsig, "consistency");
    out = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    return out;
}

static void test_request_forgery(void **state)
{
    struct http_response r;
    char pkhex[65], headers[1024], *body, nonce[] = "00112233445566778899aabbccddeeff";
    unsigned char other_sk[64], other_pk[32];
    (void)state;

    crypto_sign_keypair(tst_pk, tst_sk);
    sodium_bin2hex(pkhex, sizeof pkhex, tst_pk, sizeof tst_pk);
    office_add("TST", pkhex);

    /* a correctly signed request passes */
    assert_int_equal(post_signed("/national/v1/head", "{}", tst_sk, NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    http_response_free(&r);

    /* signed with another key (a wrong office key): 401 */
    crypto_sign_keypair(other_pk, other_sk);
    assert_int_equal(post_signed("/national/v1/head", "{}", other_sk, NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.body, "signature does not verify"));
    http_response_free(&r);

    /* the same request twice: the replay is refused */
    assert_int_equal(post_signed("/national/v1/head", "{}", tst_sk, nonce, headers,
                                 sizeof headers, &r), 0);
    assert_int_equal(r.status, 200);
    http_response_free(&r);
    assert_int_equal(http_request(serve_port, "POST", "/national/v1/head", headers, "{}", 2, &r), 0);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.body, "replayed"));
    http_response_free(&r);

    /* a body changed under a valid signature */
    assert_int_equal(post_signed("/national/v1/head", "{}", tst_sk, NULL, headers,
                                 sizeof headers, &r), 0);
    http_response_free(&r);
    assert_int_equal(http_request(serve_port, "POST", "/national/v1/head", headers, "{ }", 3, &r),
                     0);
    assert_int_equal(r.status, 401);
    http_response_free(&r);

    /* no signature at all */
    assert_int_equal(http_request(serve_port, "POST", "/national/v1/head",
                                  "X-Civreg-Office: TST\r\n", "{}", 2, &r), 0);
    assert_int_equal(r.status, 401);
    http_response_free(&r);

    /* a forged event signature: refused, nothing stored */
    body = tst_push_body(true);
    assert_int_equal(post_signed("/national/v1/push", body, tst_sk, NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "signature invalid"));
    http_response_free(&r);
    free(body);
    assert_int_equal(psql_long(pg_url, "SELECT count(*) FROM events WHERE office = 'TST'"), 0);
    assert_int_equal(psql_long(pg_url, "SELECT tree_size FROM offices WHERE office = 'TST'"), 0);

    /* the same push honestly signed is taken */
    body = tst_push_body(false);
    assert_int_equal(post_signed("/national/v1/push", body, tst_sk, NULL, NULL, 0, &r), 0);
    if (r.status != 200)
        fail_msg("honest push: %d %s", r.status, r.body);
    http_response_free(&r);
    /* and a second time it is stale, not doubled */
    assert_int_equal(post_signed("/national/v1/push", body, tst_sk, NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 409);
    http_response_free(&r);
    free(body);
    assert_int_equal(psql_long(pg_url, "SELECT count(*) FROM events WHERE office = 'TST'"), 1);
}

static void test_wrong_office_key(void **state)
{
    char data_w[4300], *e, pkhex[65];
    unsigned char pk[32], sk[64];
    (void)state;
    district("DW", data_w, sizeof data_w);
    /* registered nationally with a key that is not the office's */
    crypto_sign_keypair(pk, sk);
    sodium_bin2hex(pkhex, sizeof pkhex, pk, sizeof pk);
    office_add("DW", pkhex);
    e = run_fail(NULL, (const char *[]){ "sync", "push", "--data", data_w, "--national",
                                         serve_url, NULL });
    assert_non_null(strstr(e, "signature does not verify"));
    free(e);
    assert_int_equal(psql_long(pg_url, "SELECT count(*) FROM events WHERE office = 'DW'"), 0);
    /* and the national tier refuses to swap the key */
    {
        char *k = office_key(data_w);
        e = run_fail(NULL, (const char *[]){ "national", "office-add", "--pg", pg_url, "--office",
                                             "DW", "--key", k, NULL });
        assert_non_null(strstr(e, "another key"));
        free(e);
        free(k);
    }
}

/* ---- kill -9 during a 20,000-event push ---- */

#define KILL_EVENTS 20000

/* A made-up name from syllables, different for each (K, PART): records that
 * do not resemble each other, so the district's duplicate search stays
 * quiet. */
static void name_of(unsigned k, unsigned part, char *out, size_t size)
{
    static const char *const syl[] = { "ka", "mo", "te", "ri", "su", "na", "lo", "bi",
                                       "du", "fe", "ga", "hu", "ji", "ku", "ma", "ne",
                                       "po", "ra", "si", "to", "vu", "wa", "ya", "ze" };
    uint64_t x = ((uint64_t)k * 2654435761u + part * 40503u) ^ 0x9e3779b97f4a7c15ull;
    size_t len = 0;
    for (int i = 0; i < 4 && len + 3 < size; i++) {
        x ^= x >> 13;
        x *= 0xff51afd7ed558ccdull;
        x ^= x >> 29;
        memcpy(out + len, syl[x % 24], 2);
        len += 2;
    }
    out[len] = '\0';
    out[0] = (char)(out[0] - 32);
}

/* Draft N distinct records in DATA through `record import`, in files of at
 * most 4000 lines (each run well within the helper's time limit). */
static void import_lines(const char *data, unsigned n, const char *tag)
{
    char path[4400], given[48], family[16], mother[16], father[16], date[16];
    for (unsigned start = 0, part = 0; start < n; start += 4000, part++) {
        FILE *f;
        snprintf(path, sizeof path, "%s/%s-%u.jsonl", root, tag, part);
        f = fopen(path, "w");
        assert_non_null(f);
        for (unsigned i = start; i < n && i < start + 4000; i++) {
            json_t *r = json_deep_copy(example);
            char *rec, g1[16], g2[16];
            name_of(i, 1, g1, sizeof g1);
            name_of(i, 2, g2, sizeof g2);
            snprintf(given, sizeof given, "%s %s", g1, g2);
            name_of(i, 3, family, sizeof family);
            name_of(i, 4, mother, sizeof mother);
            name_of(i, 5, father, sizeof father);
            snprintf(date, sizeof date, "19%02u-%02u-%02u", 50 + i % 49, 1 + i % 12, 1 + i % 28);
            json_object_set_new(json_object_get(r, "child"), "given_names", json_string(given));
            json_object_set_new(json_object_get(r, "child"), "family_name", json_string(family));
            json_object_set_new(json_object_get(r, "mother"), "given_names", json_string(mother));
            json_object_set_new(json_object_get(r, "father"), "given_names", json_string(father));
            json_object_set_new(json_object_get(r, "birth"), "date", json_string(date));
            json_object_del(r, "registration_date");
            rec = json_dumps(r, JSON_COMPACT);
            fprintf(f, "%s\n", rec);
            free(rec);
            json_decref(r);
        }
        assert_int_equal(fclose(f), 0);
        free(run_ok(NULL, (const char *[]){ "record", "import", "--jsonl", path, "--batch", "500",
                                            "--data", data, "--user", "clerk1", "--password-file",
                                            pw_c1, NULL }));
    }
}

static pid_t start_push(const char *data, const char *batch)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
            _exit(127);
        execl(CIVREG_BIN, CIVREG_BIN, "sync", "push", "--data", data, "--national", serve_url,
              "--batch", batch, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void check_exactly_once(const char *url, const char *office, const char *data)
{
    char sql[256], *root_n, *root_l;
    long n = local_size(data);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE office = '%s'", office);
    assert_int_equal(psql_long(url, sql), n);
    snprintf(sql, sizeof sql, "SELECT count(DISTINCT seq) FROM events WHERE office = '%s'", office);
    assert_int_equal(psql_long(url, sql), n);
    snprintf(sql, sizeof sql, "SELECT max(seq) + 1 FROM events WHERE office = '%s'", office);
    assert_int_equal(psql_long(url, sql), n);
    snprintf(sql, sizeof sql, "SELECT tree_size FROM offices WHERE office = '%s'", office);
    assert_int_equal(psql_long(url, sql), n);
    snprintf(sql, sizeof sql, "SELECT root_hash FROM offices WHERE office = '%s'", office);
    root_n = psql(url, sql);
    root_l = local_root(data);
    assert_string_equal(root_n, root_l);
    free(root_n);
    free(root_l);
}

/* "A B C" -> three numbers, with strtol. */
static int parse_three(const char *s, long *a, long *b, long *c)
{
    char *end;
    *a = strtol(s, &end, 10);
    if (*end != ' ')
        return -1;
    *b = strtol(end + 1, &end, 10);
    if (*end != ' ')
        return -1;
    *c = strtol(end + 1, &end, 10);
    return *end == '\0' ? 0 : -1;
}

static void test_kill9_during_push(void **state)
{
    char data_k[4300];
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    long n, before = 0;
    int killed_midway = 0;
    (void)state;

    district("DK", data_k, sizeof data_k);
    {
        char *k = office_key(data_k);
        office_add("DK", k);
        free(k);
    }
    import_lines(data_k, KILL_EVENTS, "DK");
    n = local_size(data_k);
    assert_true(n >= KILL_EVENTS);
    print_message("seed %u, %ld events\n", seed, n);
    srand(seed);
    for (int k = 0; k < 6; k++) {
        /* wait until this push has committed a batch (a busy machine makes
         * start-up slow), then kill a random 0 .. 0.8 s later */
        long delay_ms = rand() % 800, now, distinct;
        struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
        struct timespec poll = { 0, 100 * 1000000L };
        pid_t pid = start_push(data_k, "700");
        int st = 0;
        for (int t = 0; t < 1200; t++) {
            if (psql_long(pg_url, "SELECT count(*) FROM events WHERE office = 'DK'") > before ||
                waitpid(pid, &st, WNOHANG) == pid)
                break;
            nanosleep(&poll, NULL);
        }
        nanosleep(&ts, NULL);
        if (k % 2 == 0) {
            kill(pid, SIGKILL); /* the district */
        } else {
            serve_stop(SIGKILL); /* the national service */
        }
        (void)waitpid(pid, &st, 0);
        if (k % 2 == 1)
            serve_start(pg_url);
        /* a request the service had fully received may still commit after
         * its client died: count and distinct positions in one snapshot */
        {
            char *both = psql(pg_url, "SELECT count(*) || ' ' || count(DISTINCT seq) ||"
                                      " ' ' || coalesce(max(seq) + 1, 0) FROM events"
                                      " WHERE office = 'DK'");
            long top;
            assert_int_equal(parse_three(both, &now, &distinct, &top), 0);
            free(both);
            /* whatever is there is a prefix of the log, each event once */
            assert_int_equal(distinct, now);
            assert_int_equal(top, now);
        }
        print_message("kill %d (%s) after %ld ms: %ld events national\n", k + 1,
                      k % 2 == 0 ? "district" : "national", delay_ms, now);
        assert_true(now >= before);
        if (now > before && now < n)
            killed_midway++;
        before = now;
    }
    assert_true(killed_midway > 0);
    push_ok(data_k);
    check_exactly_once(pg_url, "DK", data_k);
    assert_int_equal(psql_long(pg_url, "SELECT count(*) FROM birth_records WHERE office = 'DK'"),
                     KILL_EVENTS);
    /* once more: nothing added */
    push_ok(data_k);
    check_exactly_once(pg_url, "DK", data_k);
}

/* ---- failover to a streaming standby ---- */

static void test_failover(void **state)
{
    char standby_dir[4300], standby_url[4400], data_s[4300];
    long n, got;
    pid_t pid;
    int st = 0;
    (void)state;

    district("DS", data_s, sizeof data_s);
    {
        char *k = office_key(data_s);
        office_add("DS", k);
        free(k);
    }
    snprintf(standby_dir, sizeof standby_dir, "%s/standby", root);
    assert_int_equal(pg_cluster("start", standby_dir, "standby", pg_dir, NULL, 0), 0);
    import_lines(data_s, 4000, "DS");
    n = local_size(data_s);
    /* push in small batches and kill the primary in the middle */
    pid = start_push(data_s, "100");
    for (int t = 0; t < 600; t++) {
        struct timespec ts = { 0, 50 * 1000000L };
        if (psql_long(pg_url, "SELECT count(*) FROM events WHERE office = 'DS'") > 0)
            break;
        nanosleep(&ts, NULL);
    }
    assert_int_equal(pg_cluster("kill", pg_dir, NULL, NULL, NULL, 0), 0);
    waitpid(pid, &st, 0);
    serve_stop(SIGKILL);
    assert_int_equal(pg_cluster("promote", standby_dir, NULL, NULL, NULL, 0), 0);
    assert_int_equal(pg_cluster("url", standby_dir, NULL, NULL, standby_url, sizeof standby_url),
                     0);
    {
        /* a moment for the promoted server to accept writes */
        char *s = psql(standby_url, "SELECT pg_is_in_recovery()");
        for (int t = 0; t < 100 && strcmp(s, "f") != 0; t++) {
            struct timespec ts = { 0, 100 * 1000000L };
            free(s);
            nanosleep(&ts, NULL);
            s = psql(standby_url, "SELECT pg_is_in_recovery()");
        }
        assert_string_equal(s, "f");
        free(s);
    }
    got = psql_long(standby_url, "SELECT count(*) FROM events WHERE office = 'DS'");
    print_message("standby promoted with %ld of %ld events of DS\n", got, n);
    serve_start(standby_url);
    push_ok(data_s);
    check_exactly_once(standby_url, "DS", data_s);
    serve_stop(SIGTERM);
    (void)pg_cluster("stop", standby_dir, NULL, NULL, NULL, 0);
    /* the group's teardown stops the (dead) primary; restart a service on
     * nothing: later tests in this group do not exist */
}

int main(int argc, char **argv)
{
    const struct CMUnitTest basic[] = {
        cmocka_unit_test(test_three_districts),
        cmocka_unit_test(test_enrol_from_nation),
        cmocka_unit_test(test_cross_district_duplicate),
        cmocka_unit_test(test_fork_refused),
        cmocka_unit_test(test_request_forgery),
        cmocka_unit_test(test_wrong_office_key),
    };
    const struct CMUnitTest kill[] = {
        cmocka_unit_test(test_kill9_during_push),
    };
    const struct CMUnitTest failover[] = {
        cmocka_unit_test(test_failover),
    };
    const char *which = argc > 1 ? argv[1] : "basic";

    signal(SIGPIPE, SIG_IGN);
    /* NATIONAL_TEST_FILTER=test_fork_refused runs one test (by hand) */
    if (getenv("NATIONAL_TEST_FILTER"))
        cmocka_set_test_filter(getenv("NATIONAL_TEST_FILTER"));
    if (strcmp(which, "kill") == 0)
        return cmocka_run_group_tests_name("national_kill", kill, group_setup, group_teardown);
    if (strcmp(which, "failover") == 0)
        return cmocka_run_group_tests_name("national_failover", failover, group_setup,
                                           group_teardown);
    return cmocka_run_group_tests_name("national", basic, group_setup, group_teardown);
}
