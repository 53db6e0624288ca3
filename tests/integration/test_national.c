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

#include "../../bench/hashed_name.h"
#include "support/national.h"
#include "support/support.h"

static struct national nat;

/* ---- helpers ---- */

static void serve_start(const char *url)
{
    national_serve_start(&nat, url, (const char *[]){ "--insecure-loopback", NULL }, "http");
}

/* A push of DATA refused with WANT in its message. */
static void push_refused(const char *data, const char *want)
{
    char *e = civreg_run_fail(NULL, (const char *[]){ "sync", "push", "--data", data,
                                                      "--national", nat.serve_url, NULL });
    if (strstr(e, want) == NULL)
        fail_msg("push of %s refused without \"%s\": %s", data, want, e);
    free(e);
}

static void push_ok(const char *data)
{
    free(civreg_run_ok(NULL, (const char *[]){ "sync", "push", "--data", data, "--national",
                                               nat.serve_url, NULL }));
}

static char *local_root(const char *data)
{
    json_t *h = national_audit_head(data);
    char *s = strdup(json_string_value(json_object_get(h, "root_hash")));
    json_decref(h);
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
    (void)state;
    if (national_setup(&nat, "national") != 0)
        return -1;
    serve_start(nat.pg_url);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    national_teardown(&nat);
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

    national_district(&nat, "DA", data_a, sizeof data_a);
    national_district(&nat, "DB", data_b, sizeof data_b);
    national_district(&nat, "DC", data_c, sizeof data_c);
    ka = national_office_key(data_a);
    kb = national_office_key(data_b);
    kc = national_office_key(data_c);
    fixture_office_add(&nat, "DA", ka);
    fixture_office_add(&nat, "DB", kb);
    fixture_office_add(&nat, "DC", kc);

    national_register_birth(&nat, data_a, "Achieng", "1990-01-02", uin_a);
    national_register_birth(&nat, data_b, "Baraka", "1991-02-03", uin_b);
    push_ok(data_a);
    push_ok(data_b);
    /* C works offline: births and a death, then catches up in one push */
    national_register_birth(&nat, data_c, "Chebet", "1992-03-04", uin_c);
    free(civreg_run_ok(NULL,
                       (const char *[]){ "death", "register", uin_c, "--date", "2020-05-06",
                                         "--locality", "Kisumu", "--district", "Kisumu Central",
                                         "--informant", "Grace Otieno", "--data", data_c, "--user",
                                         "reg", "--password-file", nat.pw_reg, NULL }));
    assert_int_equal(psql_long(nat.pg_url, "SELECT tree_size FROM offices WHERE office = 'DC'"), 0);
    push_ok(data_c);
    assert_int_equal(psql_long(nat.pg_url, "SELECT tree_size FROM offices WHERE office = 'DC'"),
                     national_local_size(data_c));
    /* a second push adds nothing */
    push_ok(data_c);
    assert_int_equal(psql_long(nat.pg_url, "SELECT count(*) FROM events WHERE office = 'DC'"),
                     national_local_size(data_c));

    /* A finds the person of B, with a bundle verified offline against B's key */
    snprintf(path, sizeof path, "%s/person-b.json", nat.root);
    free(civreg_run_ok(NULL, (const char *[]){ "sync", "person", uin_b, "--data", data_a,
                                               "--national", nat.serve_url, "--out", path, NULL }));
    out = civreg_run_ok(
        NULL, (const char *[]){ "audit", "verify-bundle", path, "--office-key", kb, NULL });
    assert_non_null(strstr(out, "ok:"));
    free(out);
    /* the same bundle under another office's key fails */
    e = civreg_run_fail(
        NULL, (const char *[]){ "audit", "verify-bundle", path, "--office-key", ka, NULL });
    free(e);
    bundle = json_load_file(path, 0, NULL);
    assert_non_null(bundle);
    assert_string_equal(json_string_value(json_object_get(json_object_get(bundle, "national"),
                                                          "office")),
                        "DB");
    assert_true(json_is_false(json_object_get(json_object_get(bundle, "national"), "deceased")));
    json_decref(bundle);

    /* the death registered in C shows for A */
    snprintf(path, sizeof path, "%s/person-c.json", nat.root);
    free(civreg_run_ok(NULL, (const char *[]){ "sync", "person", uin_c, "--data", data_a,
                                               "--national", nat.serve_url, "--out", path, NULL }));
    bundle = json_load_file(path, 0, NULL);
    assert_true(json_is_true(json_object_get(json_object_get(bundle, "national"), "deceased")));
    json_decref(bundle);

    /* national search across offices on the district name keys */
    out = civreg_run_ok(
        NULL, (const char *[]){ "national", "search", "--pg", nat.pg_url, "Baraka", NULL });
    assert_non_null(strstr(out, uin_b));
    free(out);
    /* national trace = the same bundle, from the national store */
    snprintf(path, sizeof path, "%s/trace-c.json", nat.root);
    free(civreg_run_ok(NULL, (const char *[]){ "national", "trace", uin_c, "--pg", nat.pg_url,
                                               "--out", path, NULL }));
    out = civreg_run_ok(
        NULL, (const char *[]){ "audit", "verify-bundle", path, "--office-key", kc, NULL });
    free(out);
    /* a block of national UINs for A: valid, distinct, reserved for DA */
    {
        json_t *blk, *u;
        size_t i;
        out = civreg_run_ok(NULL, (const char *[]){ "sync", "uin-block", "--count", "50", "--data",
                                                    data_a, "--national", nat.serve_url, NULL });
        /* the block is stored in the district (test_national_district) */
        blk = json_loads(out, 0, NULL);
        assert_non_null(blk);
        assert_int_equal(json_integer_value(json_object_get(blk, "received")), 50);
        (void)i, (void)u;
        json_decref(blk);
        free(out);
        assert_int_equal(psql_long(nat.pg_url, "SELECT count(*) FROM uins WHERE office = 'DA' AND"
                                               " state = 'reserved'"),
                         50);
        assert_int_equal(
            psql_long(nat.pg_url, "SELECT count(*) FROM uins WHERE state = 'assigned'"), 3);
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
    const char *args[] = { "application", "enrol",      "--uin",           uin,      "--photo",
                           photo,         "--national", nat.serve_url,     "--data", data_a,
                           "--user",      "enrola",     "--password-file", pw_enrol, NULL };
    snprintf(photo, sizeof photo, "%s/issuance/portrait.jpg", CIVREG_TEST_DATA);
    return expect_ok ? civreg_run_ok(NULL, args) : civreg_run_fail(NULL, args);
}

/* psql UPDATE (no result). */
static void psql_do(const char *sql)
{
    free(psql(nat.pg_url, sql));
}

static void test_enrol_from_nation(void **state)
{
    char uin_b2[16], uin_c2[16], sql[1024], *out, *e, *kb, path[4400], blob[4600];
    json_t *app, *bundle;
    const json_t *chk;
    const char *detail, *h;
    (void)state;

    assert_int_equal(
        pw_file(nat.root, "enrola", "lorne-tundra-ferns-64", pw_enrol, sizeof pw_enrol), 0);
    assert_int_equal(pw_file(nat.root, "appra", "rppa-tundra-ferns-65", pw_appr, sizeof pw_appr),
                     0);
    civreg_user_add(data_a, "enrola", "enrolment_officer", "lorne-tundra-ferns-64", nat.pw_admin);
    civreg_user_add(data_a, "appra", "approver", "rppa-tundra-ferns-65", nat.pw_admin);
    kb = national_office_key(data_b);

    /* without the national tier, A does not know B's person */
    {
        char photo[4200];
        snprintf(photo, sizeof photo, "%s/issuance/portrait.jpg", CIVREG_TEST_DATA);
        e = civreg_run_fail(NULL, (const char *[]){ "application", "enrol", "--uin", uin_b,
                                                    "--photo", photo, "--data", data_a, "--user",
                                                    "enrola", "--password-file", pw_enrol, NULL });
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
    out = civreg_run_ok(
        NULL, (const char *[]){ "audit", "verify-bundle", blob, "--office-key", kb, NULL });
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
        snprintf(path, sizeof path, "%s/tampered-evidence.json", nat.root);
        assert_int_equal(json_dump_file(bundle, path, JSON_COMPACT), 0);
        e = civreg_run_fail(
            NULL, (const char *[]){ "audit", "verify-bundle", path, "--office-key", kb, NULL });
        assert_non_null(strstr(e, "problem"));
        free(e);
    }
    json_decref(bundle);
    /* the whole of A's log, the application with it, still verifies */
    free(civreg_run_ok(NULL, (const char *[]){ "audit", "verify", "--data", data_a, NULL }));
    json_decref(app);

    /* a forged national answer is refused before anything is created */
    national_register_birth(&nat, data_b, "Bahati", "1996-07-08", uin_b2);
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
        char *list =
            civreg_run_ok(NULL, (const char *[]){ "application", "list", "--data", data_a, "--user",
                                                  "enrola", "--password-file", pw_enrol, NULL });
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
    national_register_birth(&nat, data_c, "Chausiku", "1997-08-09", uin_c2);
    push_ok(data_c);
    out = enrol_args_run(true, uin_c2);
    app = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(app);
    free(civreg_run_ok(NULL,
                       (const char *[]){ "death", "register", uin_c2, "--date", "2025-01-02",
                                         "--locality", "Kisumu", "--district", "Kisumu Central",
                                         "--informant", "Grace Otieno", "--data", data_c, "--user",
                                         "reg", "--password-file", nat.pw_reg, NULL }));
    push_ok(data_c);
    out = civreg_run_ok(NULL, (const char *[]){ "sync", "deaths", "--data", data_a, "--national",
                                                nat.serve_url, NULL });
    assert_non_null(strstr(out, "received"));
    free(out);
    e = civreg_run_fail(NULL, (const char *[]){ "application", "approve",
                                                json_string_value(json_object_get(app, "id")),
                                                "--data", data_a, "--user", "appra",
                                                "--password-file", pw_appr, NULL });
    assert_non_null(strstr(e, "deceased"));
    free(e);
    /* a second pull adds nothing */
    out = civreg_run_ok(NULL, (const char *[]){ "sync", "deaths", "--data", data_a, "--national",
                                                nat.serve_url, NULL });
    assert_non_null(strstr(out, "0 deaths"));
    free(out);
    json_decref(app);
    free(kb);
}


static char *as_in_a(const char *user, const char *pw, const char *const *args)
{
    const char *argv[40];
    size_t n = 0;
    while (args[n] != NULL && n < 30) {
        argv[n] = args[n];
        n++;
    }
    argv[n++] = "--data", argv[n++] = data_a, argv[n++] = "--user", argv[n++] = user;
    argv[n++] = "--password-file", argv[n++] = pw, argv[n] = NULL;
    return civreg_run_ok(NULL, argv);
}

/* The national answer's documents for UIN, asked from A. */
static json_t *national_documents(const char *uin)
{
    char path[4400];
    json_t *b, *d;
    snprintf(path, sizeof path, "%s/documents-%s.json", nat.root, uin);
    free(civreg_run_ok(NULL, (const char *[]){ "sync", "person", uin, "--data", data_a,
                                               "--national", nat.serve_url, "--out", path, NULL }));
    b = json_load_file(path, 0, NULL);
    assert_non_null(b);
    d = json_incref(json_object_get(json_object_get(b, "national"), "documents"));
    json_decref(b);
    assert_true(json_is_array(d));
    return d;
}

/* A passport issued in A to a person born in B, then reported stolen in A:
 * the national answer for that person shows the document and its status in
 * every office once A has synced. */
static void test_documents_national(void **state)
{
    char uin[16], pw_oper[4200], app_id[80], number[40], pdf[4400];
    json_t *docs, *d;
    (void)state;

    national_register_birth(&nat, data_b, "Bakari", "1993-04-05", uin);
    push_ok(data_b);
    docs = national_documents(uin);
    assert_int_equal(json_array_size(docs), 0);
    json_decref(docs);

    assert_int_equal(
        pw_file(nat.root, "opera", "arepo-tundra-ferns-66", pw_oper, sizeof pw_oper), 0);
    civreg_user_add(data_a, "opera", "issuance_operator", "arepo-tundra-ferns-66", nat.pw_admin);
    free(as_in_a("admin", nat.pw_admin,
                 (const char *[]){ "pki", "init", "--country", "UT", NULL }));
    free(as_in_a("admin", nat.pw_admin, (const char *[]){ "pki", "issue-ds", NULL }));
    free(as_in_a("opera", pw_oper,
                 (const char *[]){ "booklet", "receive", "--type", "TD3", "--first", "P000300",
                                   "--last", "P000302", "--reference", "delivery note 2026-31",
                                   NULL }));
    json_member_take(enrol_args_run(true, uin), "id", app_id, sizeof app_id);
    json_member_take(
        as_in_a("appra", pw_appr, (const char *[]){ "application", "approve", app_id, NULL }),
        "document_number", number, sizeof number);
    snprintf(pdf, sizeof pdf, "%s/documents-page.pdf", nat.root);
    free(as_in_a("opera", pw_oper,
                 (const char *[]){ "application", "personalize", app_id, "--out", pdf, NULL }));
    push_ok(data_a);
    docs = national_documents(uin);
    assert_int_equal(json_array_size(docs), 1);
    d = json_array_get(docs, 0);
    assert_string_equal(json_string_value(json_object_get(d, "office")), "DA");
    assert_string_equal(json_string_value(json_object_get(d, "number")), number);
    assert_string_equal(json_string_value(json_object_get(d, "status")), "personalized");
    assert_non_null(json_string_value(json_object_get(d, "date_of_expiry")));
    json_decref(docs);

    free(as_in_a("opera", pw_oper, (const char *[]){ "application", "qc", app_id, "--pass",
                                                     NULL }));
    free(as_in_a("opera", pw_oper, (const char *[]){ "application", "issue", app_id, NULL }));
    push_ok(data_a);
    docs = national_documents(uin);
    assert_string_equal(json_string_value(json_object_get(json_array_get(docs, 0), "status")),
                        "valid");
    json_decref(docs);

    free(as_in_a("enrola", pw_enrol,
                 (const char *[]){ "document", "status", number, "--status", "stolen", "--reason",
                                   "reported by the holder, police report 31", NULL }));
    push_ok(data_a);
    docs = national_documents(uin);
    d = json_array_get(docs, 0);
    assert_string_equal(json_string_value(json_object_get(d, "status")), "stolen");
    assert_string_equal(json_string_value(json_object_get(d, "status_reason")),
                        "reported by the holder, police report 31");
    json_decref(docs);
    /* the projection is the events': a push repeated changes nothing */
    push_ok(data_a);
    assert_int_equal(psql_long(nat.pg_url, "SELECT count(*) FROM documents"), 1);
}

static void test_cross_district_duplicate(void **state)
{
    char u1[16], u2[16], *out;
    (void)state;
    national_register_birth(&nat, data_a, "Wanjiku Imani", "1985-06-07", u1);
    national_register_birth(&nat, data_b, "Wanjiku Imani", "1985-06-07", u2);
    push_ok(data_a);
    push_ok(data_b);
    out =
        civreg_run_ok(NULL, (const char *[]){ "national", "duplicates", "--pg", nat.pg_url, NULL });
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
        out = civreg_run_ok(NULL, (const char *[]){ "sync", "duplicates", "--data", data_a,
                                                    "--national", nat.serve_url, NULL });
        assert_non_null(strstr(out, u1));
        free(out);
        out = civreg_run_ok(NULL, (const char *[]){ "sync", "duplicates", "--data", data_b,
                                                    "--national", nat.serve_url, NULL });
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
        e = civreg_run_fail(NULL, (const char *[]){ "sync", "resolve", id, "--same", "--reason",
                                                    "not ours", "--data", data_c, "--national",
                                                    nat.serve_url, "--user", "reg",
                                                    "--password-file", nat.pw_reg, NULL });
        assert_non_null(strstr(e, "no duplicate case"));
        free(e);
        out = civreg_run_ok(NULL, (const char *[]){ "sync", "resolve", id, "--same", "--reason",
                                                    "one birth registered in both districts: same "
                                                    "parents, same hospital",
                                                    "--data", data_b, "--national", nat.serve_url,
                                                    "--user", "reg", "--password-file", nat.pw_reg,
                                                    NULL });
        free(out);
        json_decref(cases);
        {
            char sql[256], *st;
            snprintf(sql, sizeof sql, "SELECT status FROM dup_cases WHERE id = %s", id);
            st = psql(nat.pg_url, sql);
            assert_string_equal(st, "same");
            free(st);
            snprintf(sql, sizeof sql,
                     "SELECT o.seq FROM event_objects o JOIN events e ON e.office = o.office"
                     " AND e.seq = o.seq WHERE o.office = 'DB' AND o.kind = 'dup_case'"
                     " AND e.type = 'national.duplicate'");
            seq = psql_long(nat.pg_url, sql);
            assert_true(seq > 0);
        }
        /* A's registrar sees the resolution, with the signed event */
        out = civreg_run_ok(NULL, (const char *[]){ "sync", "duplicates", "--data", data_a,
                                                    "--national", nat.serve_url, NULL });
        assert_non_null(strstr(out, "\"status\":\"same\""));
        assert_non_null(strstr(out, "\"office\":\"DB\""));
        free(out);
        /* and B's log still verifies with the new event in it */
        free(civreg_run_ok(NULL, (const char *[]){ "audit", "verify", "--data", data_b, NULL }));
    }
}

static void test_fork_refused(void **state)
{
    char data_f[4300], saved[4400], good[4400], given[32], *e, *out;
    long pos;
    (void)state;

    national_district_registered(&nat, "DF", data_f, sizeof data_f);
    national_register_birth(&nat, data_f, "Faraji", "1993-04-05", (char[16]){ 0 });
    snprintf(saved, sizeof saved, "%s.saved", data_f);
    copy_dir(data_f, saved);
    pos = national_local_size(data_f);
    national_register_birth(&nat, data_f, "Fatuma", "1994-05-06", (char[16]){ 0 });
    push_ok(data_f);
    /* the history the nation accepted, kept aside (the office's backup) */
    snprintf(good, sizeof good, "%s.good", data_f);
    copy_dir(data_f, good);
    /* the office "restores" its old copy and writes another history */
    tmp_remove(data_f);
    assert_int_equal(rename(saved, data_f), 0);
    snprintf(given, sizeof given, "Furaha");
    national_register_birth(&nat, data_f, given, "1995-06-07", (char[16]){ 0 });
    snprintf(given, sizeof given, "Zawadi Nyokabi");
    national_register_birth(&nat, data_f, given, "1979-11-21", (char[16]){ 0 });
    push_refused(data_f, "forked");
    out = civreg_run_ok(NULL, (const char *[]){ "national", "status", "--pg", nat.pg_url, NULL });
    {
        char want[64];
        snprintf(want, sizeof want, "\"position\":%ld", pos);
        if (strstr(out, want) == NULL)
            fail_msg("status does not name position %ld: %s", pos, out);
    }
    free(out);
    /* both heads kept */
    assert_int_equal(psql_long(nat.pg_url, "SELECT count(*) FROM forks WHERE office = 'DF' AND"
                                           " accepted_body IS NOT NULL AND district_body <> ''"),
                     1);
    /* and the office stays refused */
    push_refused(data_f, "fork");

    /* an operator clears the alarm, by name and with a reason */
    e = civreg_run_fail(NULL, (const char *[]){ "national", "fork-clear", "DF", "--pg",
                                                nat.pg_url, "--by", "Amina Wanjiru", NULL });
    assert_non_null(strstr(e, "--reason"));
    free(e);
    out = civreg_run_ok(NULL, (const char *[]){ "national", "fork-clear", "DF", "--pg", nat.pg_url,
                                                "--by", "Amina Wanjiru", "--reason",
                                                "district told to restore its backup", NULL });
    assert_non_null(strstr(out, "1 fork kept"));
    free(out);
    assert_int_equal(psql_long(nat.pg_url, "SELECT count(*) FROM offices WHERE office = 'DF'"
                                           " AND NOT fork_alarm"),
                     1);
    out = civreg_run_ok(NULL, (const char *[]){ "national", "status", "--pg", nat.pg_url, NULL });
    assert_non_null(strstr(out, "\"cleared_by\":\"Amina Wanjiru\""));
    free(out);
    /* still on the rewritten history: refused again, a new alarm */
    push_refused(data_f, "forked");
    assert_int_equal(psql_long(nat.pg_url, "SELECT count(*) FROM forks WHERE office = 'DF'"
                                           " AND cleared_at IS NULL"),
                     1);
    /* the backup restored and the alarm cleared: the push goes through */
    tmp_remove(data_f);
    assert_int_equal(rename(good, data_f), 0);
    free(civreg_run_ok(NULL, (const char *[]){ "national", "fork-clear", "DF", "--pg", nat.pg_url,
                                               "--by", "Amina Wanjiru", "--reason",
                                               "backup of the accepted history restored",
                                               NULL }));
    national_register_birth(&nat, data_f, "Faith", "1996-07-08", (char[16]){ 0 });
    push_ok(data_f);
    assert_int_equal(psql_long(nat.pg_url, "SELECT tree_size FROM offices WHERE office = 'DF'"),
                     national_local_size(data_f));
    assert_int_equal(psql_long(nat.pg_url, "SELECT count(*) FROM forks WHERE office = 'DF'"), 2);
    /* no alarm to clear */
    e = civreg_run_fail(NULL, (const char *[]){ "national", "fork-clear", "DF", "--pg",
                                                nat.pg_url, "--by", "Amina Wanjiru", "--reason",
                                                "again", NULL });
    assert_non_null(strstr(e, "no fork alarm"));
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
    return http_request(nat.serve_port, "POST", path, headers, body, strlen(body), resp);
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
    fixture_office_add(&nat, "TST", pkhex);

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
    assert_int_equal(
        http_request(nat.serve_port, "POST", "/national/v1/head", headers, "{}", 2, &r), 0);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(r.body, "replayed"));
    http_response_free(&r);

    /* a body changed under a valid signature */
    assert_int_equal(post_signed("/national/v1/head", "{}", tst_sk, NULL, headers,
                                 sizeof headers, &r), 0);
    http_response_free(&r);
    assert_int_equal(
        http_request(nat.serve_port, "POST", "/national/v1/head", headers, "{ }", 3, &r), 0);
    assert_int_equal(r.status, 401);
    http_response_free(&r);

    /* no signature at all */
    assert_int_equal(http_request(nat.serve_port, "POST", "/national/v1/head",
                                  "X-Civreg-Office: TST\r\n", "{}", 2, &r),
                     0);
    assert_int_equal(r.status, 401);
    http_response_free(&r);

    /* a forged event signature: refused, nothing stored */
    body = tst_push_body(true);
    assert_int_equal(post_signed("/national/v1/push", body, tst_sk, NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "signature invalid"));
    http_response_free(&r);
    free(body);
    assert_int_equal(psql_long(nat.pg_url, "SELECT count(*) FROM events WHERE office = 'TST'"), 0);
    assert_int_equal(psql_long(nat.pg_url, "SELECT tree_size FROM offices WHERE office = 'TST'"),
                     0);

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
    assert_int_equal(psql_long(nat.pg_url, "SELECT count(*) FROM events WHERE office = 'TST'"), 1);
}

static void test_wrong_office_key(void **state)
{
    char data_w[4300], *e, pkhex[65];
    unsigned char pk[32], sk[64];
    (void)state;
    national_district(&nat, "DW", data_w, sizeof data_w);
    /* registered nationally with a key that is not the office's */
    crypto_sign_keypair(pk, sk);
    sodium_bin2hex(pkhex, sizeof pkhex, pk, sizeof pk);
    fixture_office_add(&nat, "DW", pkhex);
    push_refused(data_w, "signature does not verify");
    assert_int_equal(psql_long(nat.pg_url, "SELECT count(*) FROM events WHERE office = 'DW'"), 0);
    /* and the national tier refuses to swap the key */
    {
        char *k = national_office_key(data_w);
        e = civreg_run_fail(NULL, (const char *[]){ "national", "office-add", "--pg", nat.pg_url,
                                                    "--office", "DW", "--key", k, NULL });
        assert_non_null(strstr(e, "another key"));
        free(e);
        free(k);
    }
}

/* ---- kill -9 during a 20,000-event push ---- */

#define KILL_EVENTS 20000

/* Draft N distinct records in DATA through `record import`, in files of at
 * most 4000 lines (each run well within the helper's time limit). */
static void import_lines(const char *data, unsigned n, const char *tag)
{
    char path[4400], given[48], family[16], mother[16], father[16], date[16];
    for (unsigned start = 0, part = 0; start < n; start += 4000, part++) {
        FILE *f;
        snprintf(path, sizeof path, "%s/%s-%u.jsonl", nat.root, tag, part);
        f = fopen(path, "w");
        assert_non_null(f);
        for (unsigned i = start; i < n && i < start + 4000; i++) {
            json_t *r = json_deep_copy(nat.example);
            char *rec, g1[16], g2[16];
            hashed_name(i, 1, 4, g1, sizeof g1);
            hashed_name(i, 2, 4, g2, sizeof g2);
            snprintf(given, sizeof given, "%s %s", g1, g2);
            hashed_name(i, 3, 4, family, sizeof family);
            hashed_name(i, 4, 4, mother, sizeof mother);
            hashed_name(i, 5, 4, father, sizeof father);
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
        free(civreg_run_ok(NULL, (const char *[]){ "record", "import", "--jsonl", path, "--batch",
                                                   "500", "--data", data, "--user", "clerk1",
                                                   "--password-file", nat.pw_c1, NULL }));
    }
}

static pid_t start_push(const char *data, const char *batch)
{
    return civreg_start_quiet((const char *[]){ "sync", "push", "--data", data, "--national",
                                                nat.serve_url, "--batch", batch, NULL });
}

static void check_exactly_once(const char *url, const char *office, const char *data)
{
    char sql[256], *root_n, *root_l;
    long n = national_local_size(data);
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

    national_district_registered(&nat, "DK", data_k, sizeof data_k);
    import_lines(data_k, KILL_EVENTS, "DK");
    n = national_local_size(data_k);
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
            if (psql_long(nat.pg_url, "SELECT count(*) FROM events WHERE office = 'DK'") > before ||
                waitpid(pid, &st, WNOHANG) == pid)
                break;
            nanosleep(&poll, NULL);
        }
        nanosleep(&ts, NULL);
        if (k % 2 == 0) {
            kill(pid, SIGKILL); /* the district */
        } else {
            national_serve_stop(&nat, SIGKILL); /* the national service */
        }
        (void)waitpid(pid, &st, 0);
        if (k % 2 == 1)
            serve_start(nat.pg_url);
        /* a request the service had fully received may still commit after
         * its client died: count and distinct positions in one snapshot */
        {
            char *both = psql(nat.pg_url, "SELECT count(*) || ' ' || count(DISTINCT seq) ||"
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
    check_exactly_once(nat.pg_url, "DK", data_k);
    assert_int_equal(
        psql_long(nat.pg_url, "SELECT count(*) FROM birth_records WHERE office = 'DK'"),
        KILL_EVENTS);
    /* once more: nothing added */
    push_ok(data_k);
    check_exactly_once(nat.pg_url, "DK", data_k);
}

/* ---- failover to a streaming standby ---- */

static void test_failover(void **state)
{
    char standby_dir[4300], standby_url[4400], data_s[4300];
    long n, got;
    pid_t pid;
    int st = 0;
    (void)state;

    national_district_registered(&nat, "DS", data_s, sizeof data_s);
    snprintf(standby_dir, sizeof standby_dir, "%s/standby", nat.root);
    assert_int_equal(pg_cluster("start", standby_dir, "standby", nat.pg_dir, NULL, 0), 0);
    import_lines(data_s, 4000, "DS");
    n = national_local_size(data_s);
    /* push in small batches and kill the primary in the middle */
    pid = start_push(data_s, "100");
    for (int t = 0; t < 600; t++) {
        struct timespec ts = { 0, 50 * 1000000L };
        if (psql_long(nat.pg_url, "SELECT count(*) FROM events WHERE office = 'DS'") > 0)
            break;
        nanosleep(&ts, NULL);
    }
    assert_int_equal(pg_cluster("kill", nat.pg_dir, NULL, NULL, NULL, 0), 0);
    waitpid(pid, &st, 0);
    national_serve_stop(&nat, SIGKILL);
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
    national_serve_stop(&nat, SIGTERM);
    (void)pg_cluster("stop", standby_dir, NULL, NULL, NULL, 0);
    /* the group's teardown stops the (dead) primary; restart a service on
     * nothing: later tests in this group do not exist */
}

int main(int argc, char **argv)
{
    const struct CMUnitTest basic[] = {
        cmocka_unit_test(test_three_districts),
        cmocka_unit_test(test_enrol_from_nation),
        cmocka_unit_test(test_documents_national),
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
