/* Integration tests of the registry through the real civreg binary: users
 * and passwords, the draft -> verify -> register lifecycle with its
 * four-eyes and role refusals, corrections, tracing and bundles, tamper
 * detection by `audit verify` (each edit named), and a kill -9 in the middle
 * of a 10,000-record import. */
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
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "support/cmocka_main.h"
#include "support/support.h"

static char *root;       /* temp folder */
static char data[4096];  /* the data directory */
static char pw_admin[4096], pw_c1[4096], pw_c2[4096], pw_reg[4096];
static char rec_json[4096], evidence_hash[80];
static char registered_id[64], registered_uin[16], draft_id[64];

static void must_run(const char *in, struct proc_result *r, const char *const args[])
{
    assert_int_equal(civreg_run(in, r, args), 0);
}

static void write_pw(char *path, const char *name, const char *pw)
{
    snprintf(path, 4096, "%s/%s.pw", root, name);
    assert_int_equal(file_write(path, pw, strlen(pw)), 0);
}

static char *draft(const char *json)
{
    char *id = civreg_run_ok(json, (const char *[]){ "record", "draft", "--data", data, "--user",
                                              "clerk1", "--password-file", pw_c1, NULL });
    text_chomp(id);
    return id;
}

static int setup(void **state)
{
    char *out, path[4096];
    (void)state;
    if ((root = tmp_data_dir("registry-cli", data, sizeof data, NULL)) == NULL)
        return -1;
    /* first user: an admin, password on stdin */
    civreg_staff_add(data, root, "clerk", "registrar,auditor", pw_admin, pw_c1, pw_c2, pw_reg);
    /* evidence: a scanned page */
    snprintf(path, sizeof path, "%s/page-112.png", root);
    assert_int_equal(file_write(path, "\x89PNG\r\n\x1a\n page 112", 18), 0);
    out = civreg_run_ok(NULL, (const char *[]){ "evidence", "add", path, "--media-type", "image/png",
                                         "--data", data, "--user", "clerk1", "--password-file",
                                         pw_c1, NULL });
    text_chomp(out);
    assert_int_equal(strlen(out), 64);
    snprintf(evidence_hash, sizeof evidence_hash, "%s", out);
    free(out);
    /* the example, with the evidence filled in */
    civreg_example_record(evidence_hash, rec_json, sizeof rec_json);
    return 0;
}

TMP_DIR_TEARDOWN(root)

static void expect_fail(const char *in, const char *const args[], const char *message)
{
    struct proc_result r;
    must_run(in, &r, args);
    if (r.status != 1 || strstr(r.err, message) == NULL)
        fail_msg("civreg %s %s: expected exit 1 with '%s', got %d: %s", args[0], args[1],
                 message, r.status, r.err);
    proc_result_free(&r);
}

/* `civreg record STEP ID` as USER (password file PW), IN on its standard
 * input, fails with MESSAGE. */
static void record_refused(const char *in, const char *step, const char *id, const char *user,
                           const char *pw, const char *message)
{
    expect_fail(in,
                (const char *[]){ "record", step, id, "--data", data, "--user", user,
                                  "--password-file", pw, NULL },
                message);
}

/* ID verified by clerk2, who keys the record again from rec_json. */
static void verify_ok(const char *id)
{
    free(civreg_run_ok(rec_json, (const char *[]){ "record", "verify", id, "--data", data, "--user",
                                                   "clerk2", "--password-file", pw_c2, NULL }));
}

/* `civreg record list FILTER...` (FILTER: NULL-ended, at most 4 words) as
 * clerk1 lists the registered record when REGISTERED, the draft when
 * DRAFT, and not otherwise. */
static void list_shows(const char *const filter[], bool registered, bool draft)
{
    const char *args[16] = { "record", "list" };
    size_t n = 2;
    char *out;

    for (; *filter != NULL && n < 6; filter++)
        args[n++] = *filter;
    assert_null(*filter);
    memcpy(args + n,
           (const char *[]){ "--data", data, "--user", "clerk1", "--password-file", pw_c1, NULL },
           7 * sizeof *args);
    out = civreg_run_ok(NULL, args);
    assert_true((strstr(out, registered_id) != NULL) == registered);
    assert_true((strstr(out, draft_id) != NULL) == draft);
    free(out);
}

static void test_passwords(void **state)
{
    char bad[4096], rec_json_line_for_reset[8192];
    (void)state;
    snprintf(rec_json_line_for_reset, sizeof rec_json_line_for_reset, "3krelc-reset-lagoon-88\n%s",
             rec_json);
    write_pw(bad, "bad", "wrong-password\n");
    expect_fail(rec_json, (const char *[]){ "record", "draft", "--data", data, "--user", "clerk1",
                                            "--password-file", bad, NULL },
                "invalid username or password");
    expect_fail(rec_json, (const char *[]){ "record", "draft", "--data", data, "--user", "nobody",
                                            "--password-file", bad, NULL },
                "invalid username or password");
    /* a second bootstrap is refused */
    expect_fail("x-tundra-ferns-61\n", (const char *[]){ "user", "add", "--data", data, "--username",
                                                  "eve", "--role", "admin", NULL },
                "sign in as an admin");
    /* only admins add users */
    expect_fail("x-tundra-ferns-61\n",
                (const char *[]){ "user", "add", "--data", data, "--username", "eve", "--role",
                                  "clerk", "--user", "clerk1", "--password-file", pw_c1, NULL },
                "does not hold the admin role");
    /* a disabled account */
    free(civreg_run_ok("pmet-tundra-ferns-61\n",
                (const char *[]){ "user", "add", "--data", data, "--username", "temp", "--role",
                                  "clerk", "--user", "admin", "--password-file", pw_admin, NULL }));
    free(civreg_run_ok(NULL, (const char *[]){ "user", "disable", "--data", data, "--username", "temp",
                                        "--user", "admin", "--password-file", pw_admin, NULL }));
    expect_fail("pmet-tundra-ferns-61\n" "{}",
                (const char *[]){ "record", "draft", "--data", data, "--user", "temp", NULL },
                "account disabled");
    /* passwd: old then new on stdin; the key still signs */
    free(civreg_run_ok("2krelc-tundra-ferns-61\n2krelc-new-lagoon-88\n",
                (const char *[]){ "user", "passwd", "--data", data, "--username", "clerk2", NULL }));
    free(civreg_run_ok("2krelc-new-lagoon-88\n2krelc-tundra-ferns-61\n",
                (const char *[]){ "user", "passwd", "--data", data, "--username", "clerk2", NULL }));
    /* an admin resets a forgotten password: a new key, logged; the old
     * password no longer works, the new one signs */
    free(civreg_run_ok("3krelc-tundra-ferns-61\n",
                (const char *[]){ "user", "add", "--data", data, "--username", "clerk3", "--role",
                                  "clerk", "--user", "admin", "--password-file", pw_admin, NULL }));
    {
        char *id = civreg_run_ok("3krelc-tundra-ferns-61\n{}", (const char *[]){ "record", "list", "--data",
                                                                    data, "--user", "clerk3",
                                                                    NULL });
        free(id);
    }
    free(civreg_run_ok("3krelc-reset-lagoon-88\n",
                (const char *[]){ "user", "passwd", "--data", data, "--username", "clerk3", "--user",
                                  "admin", "--password-file", pw_admin, NULL }));
    expect_fail("3krelc-tundra-ferns-61\n", (const char *[]){ "record", "list", "--data", data, "--user",
                                                      "clerk3", NULL },
                "invalid username or password");
    {
        char *id = civreg_run_ok(rec_json_line_for_reset, (const char *[]){ "record", "draft", "--data",
                                                                   data, "--user", "clerk3",
                                                                   NULL });
        free(id);
    }
    {
        char *out = civreg_run_ok(NULL, (const char *[]){ "user", "list", "--data", data, "--user", "reg",
                                                   "--password-file", pw_reg, NULL });
        assert_non_null(strstr(out, "\"temp\""));
        assert_non_null(strstr(out, "\"disabled\": true"));
        free(out);
    }
    /* a full name: shown in the list; a blank or control-character one is
     * refused and no account is made */
    free(civreg_run_ok("4krelc-tundra-ferns-61\n",
                (const char *[]){ "user", "add", "--data", data, "--username", "clerk4", "--role",
                                  "clerk", "--name", "Amina Otieno", "--user", "admin",
                                  "--password-file", pw_admin, NULL }));
    expect_fail("5krelc-tundra-ferns-61\n",
                (const char *[]){ "user", "add", "--data", data, "--username", "clerk5", "--role",
                                  "clerk", "--name", "   ", "--user", "admin", "--password-file",
                                  pw_admin, NULL },
                "name: must not be blank");
    expect_fail("5krelc-tundra-ferns-61\n",
                (const char *[]){ "user", "add", "--data", data, "--username", "clerk5", "--role",
                                  "clerk", "--name", "Amina\tOtieno", "--user", "admin",
                                  "--password-file", pw_admin, NULL },
                "name: must not contain control characters");
    {
        char *out = civreg_run_ok(NULL, (const char *[]){ "user", "list", "--data", data, "--user", "reg",
                                                   "--password-file", pw_reg, NULL });
        assert_non_null(strstr(out, "\"name\": \"Amina Otieno\""));
        assert_null(strstr(out, "\"clerk5\""));
        free(out);
    }
}

/* Resolve every open duplicate candidate of ID as distinct (the test keys
 * the same example entry several times). */
static void resolve_all(const char *id)
{
    char *out = civreg_run_ok(NULL, (const char *[]){ "duplicates", "list", id, "--data", data,
                                               "--user", "reg", "--password-file", pw_reg, NULL });
    char *p = out;
    while ((p = strstr(p, "\"record_id\": \"")) != NULL) {
        char a[64], b[64], *end = strchr(p, '}'), *o = strstr(p, "\"other_id\": \"");
        char *st = strstr(p, "\"status\": \"open\"");
        assert_non_null(end);
        assert_non_null(o);
        snprintf(a, sizeof a, "%.*s", (int)strcspn(p + 14, "\""), p + 14);
        snprintf(b, sizeof b, "%.*s", (int)strcspn(o + 13, "\""), o + 13);
        if (st && st < end)
            free(civreg_run_ok(NULL, (const char *[]){ "duplicates", "resolve", a, b, "--distinct",
                                                "--reason", "different entries of the test",
                                                "--data", data, "--user", "reg",
                                                "--password-file", pw_reg, NULL }));
        p = end;
    }
    free(out);
}

static void test_lifecycle(void **state)
{
    char *id, *out, mismatched[4096];
    (void)state;

    id = draft(rec_json);
    assert_non_null(strstr(id, "HQ-R-"));
    /* four-eyes: the drafting clerk may not verify */
    record_refused(rec_json, "verify", id, "clerk1", pw_c1, "may not verify it");
    /* an unverified draft cannot be registered */
    record_refused(NULL, "register", id, "reg", pw_reg, "is an unverified draft");
    /* the blind re-keying differs in one field: reported, nothing changes */
    {
        const char *p = strstr(rec_json, "\"Kisumu Central\"");
        struct proc_result r;
        assert_non_null(p);
        snprintf(mismatched, sizeof mismatched, "%.*s\"Kisumu East\"%s", (int)(p - rec_json),
                 rec_json, p + strlen("\"Kisumu Central\""));
        must_run(mismatched, &r, (const char *[]){ "record", "verify", id, "--data", data, "--user",
                                                   "clerk2", "--password-file", pw_c2, NULL });
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.out, "\"field\": \"birth.district\""));
        assert_non_null(strstr(r.out, "\"verify\": \"Kisumu East\""));
        assert_non_null(strstr(r.err, "1 field differs"));
        proc_result_free(&r);
    }
    verify_ok(id);
    /* only a registrar registers */
    record_refused(NULL, "register", id, "clerk2", pw_c2, "does not hold the registrar role");
    resolve_all(id);
    out = civreg_run_ok(NULL, (const char *[]){ "record", "register", id, "--data", data, "--user", "reg",
                                         "--password-file", pw_reg, NULL });
    assert_non_null(strstr(out, "\"registration_number\": \"HQ/"));
    {
        char *u = strstr(out, "\"uin\": \"");
        assert_non_null(u);
        snprintf(registered_uin, sizeof registered_uin, "%.10s", u + 8);
    }
    free(out);
    snprintf(registered_id, sizeof registered_id, "%s", id);
    record_refused(NULL, "register", id, "reg", pw_reg, "already registered");
    /* a correction by a clerk of a registered record is refused; by the registrar it is
     * a new version, and version 1 stays readable */
    expect_fail(mismatched,
                (const char *[]){ "record", "correct", id, "--reason", "district misread",
                                  "--data", data, "--user", "clerk1", "--password-file", pw_c1,
                                  NULL },
                "only a registrar");
    out = civreg_run_ok(mismatched, (const char *[]){ "record", "correct", id, "--reason",
                                               "district misread", "--evidence", evidence_hash,
                                               "--data", data, "--user", "reg",
                                               "--password-file", pw_reg, NULL });
    assert_string_equal(out, "2\n");
    free(out);
    out = civreg_run_ok(NULL, (const char *[]){ "record", "show", id, "--version", "1", "--data", data,
                                         "--user", "clerk1", "--password-file", pw_c1, NULL });
    assert_non_null(strstr(out, "\"Kisumu Central\""));
    free(out);
    out = civreg_run_ok(NULL, (const char *[]){ "person", "show", registered_uin, "--data", data,
                                         "--user", "clerk1", "--password-file", pw_c1, NULL });
    assert_non_null(strstr(out, "\"Kisumu East\""));
    assert_non_null(strstr(out, "\"signature_valid\": true"));
    assert_null(strstr(out, "\"signature_valid\": false"));
    free(out);
    out = civreg_run_ok(NULL, (const char *[]){ "record", "history", id, "--data", data, "--user",
                                         "clerk2", "--password-file", pw_c2, NULL });
    assert_non_null(strstr(out, "\"record.correct\""));
    assert_non_null(strstr(out, "district misread"));
    free(out);
    free(id);

    /* two more: one registered, one left as a draft. The same entry keyed
     * again resembles the registered record: registration waits until a
     * registrar has resolved the pair */
    id = draft(rec_json);
    verify_ok(id);
    record_refused(NULL, "register", id, "reg", pw_reg, "unresolved possible duplicate");
    free(civreg_run_ok(NULL, (const char *[]){ "duplicates", "resolve", id, registered_id, "--distinct",
                                        "--reason", "a second child of the same name",
                                        "--data", data, "--user", "reg", "--password-file",
                                        pw_reg, NULL }));
    resolve_all(id);
    free(civreg_run_ok(NULL, (const char *[]){ "record", "register", id, "--data", data, "--user", "reg",
                                        "--password-file", pw_reg, NULL }));
    free(id);
    id = draft(rec_json);
    snprintf(draft_id, sizeof draft_id, "%s", id);
    free(id);
    list_shows((const char *[]){ "--status", "registered", NULL }, true, false);
    /* dates of birth: the example child was born on 1987-03-12 */
    list_shows((const char *[]){ "--born-from", "1987-03-12", "--born-to", "1987-03-12", NULL },
               true, true);
    list_shows((const char *[]){ "--born-from", "1987-03-13", NULL }, false, false);
    expect_fail(NULL,
                (const char *[]){ "record", "list", "--born-to", "1987-02-30", "--data", data,
                                  "--user", "clerk1", "--password-file", pw_c1, NULL },
                "born_to");
}

static void test_audit_clean_trace_bundle(void **state)
{
    char *out, key[80], bundle[4096];
    (void)state;
    out = civreg_run_ok(NULL, (const char *[]){ "audit", "verify", "--data", data, NULL });
    assert_non_null(strstr(out, "ok: "));
    free(out);
    out = civreg_run_ok(NULL, (const char *[]){ "audit", "trace", registered_uin, "--data", data, NULL });
    assert_non_null(strstr(out, "\"inclusion_proof\""));
    assert_non_null(strstr(out, evidence_hash));
    assert_null(strstr(out, "\"signature_valid\": false"));
    free(out);
    out = civreg_run_ok(NULL, (const char *[]){ "audit", "head", "--data", data, NULL });
    {
        char *k = strstr(out, "\"office_public_key\": \"");
        assert_non_null(k);
        snprintf(key, sizeof key, "%.64s", k + 22);
    }
    free(out);
    free(civreg_run_ok(NULL, (const char *[]){ "audit", "proof", "--consistency", "3", "--data", data,
                                        NULL }));
    snprintf(bundle, sizeof bundle, "%s/bundle.json", root);
    free(civreg_run_ok(NULL, (const char *[]){ "audit", "export", registered_uin, "--out", bundle,
                                        "--data", data, NULL }));
    /* offline: no --data at all */
    out = civreg_run_ok(NULL, (const char *[]){ "audit", "verify-bundle", bundle, "--office-key", key,
                                         NULL });
    assert_non_null(strstr(out, "ok: "));
    free(out);
    /* a wrong key, and an edited bundle, are refused */
    expect_fail(NULL,
                (const char *[]){ "audit", "verify-bundle", bundle, "--office-key",
                                  "0000000000000000000000000000000000000000000000000000000000000000",
                                  NULL },
                "problem");
    {
        size_t len;
        char *b = file_read(bundle, &len), *p = strstr(b, "Kisumu East");
        assert_non_null(p);
        memcpy(p, "Kisumu West", 11);
        assert_int_equal(file_write(bundle, b, len), 0);
        free(b);
    }
    {
        struct proc_result r;
        must_run(NULL, &r, (const char *[]){ "audit", "verify-bundle", bundle, "--office-key", key,
                                             NULL });
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.out, "does not match its hash"));
        proc_result_free(&r);
    }
}

/* ---- tampering: copy the data directory, edit it, expect the edit named ---- */

static void copy_data(const char *dst)
{
    char cmd[10000];
    assert_true(snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", dst, data, dst) <
                (int)sizeof cmd);
    assert_int_equal(system(cmd), 0);
}

static void sql(const char *dir, const char *stmt)
{
    char path[4096];
    sqlite3 *h = NULL;
    char *msg = NULL;
    assert_true(snprintf(path, sizeof path, "%s/civreg.db", dir) < (int)sizeof path);
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    if (sqlite3_exec(h, stmt, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", stmt, msg);
    sqlite3_close(h);
}

static void expect_named(const char *dir, const char *what, const char *const needles[])
{
    struct proc_result r;
    must_run(NULL, &r, (const char *[]){ "audit", "verify", "--data", dir, NULL });
    if (r.status != 1)
        fail_msg("%s: audit verify exit %d, expected 1: %s", what, r.status, r.out);
    for (size_t i = 0; needles[i]; i++)
        if (strstr(r.out, needles[i]) == NULL)
            fail_msg("%s: '%s' not reported in:\n%s", what, needles[i], r.out);
    proc_result_free(&r);
}

static void test_tamper(void **state)
{
    char t[4096], stmt[1024];
    (void)state;
    snprintf(t, sizeof t, "%s/tampered", root);

    /* a changed field in a record version */
    copy_data(t);
    sql(t, "UPDATE record_versions SET data = replace(data, 'Kisumu Central', 'Kisumu North')"
           " WHERE version = 1");
    snprintf(stmt, sizeof stmt, "record_versions %s/1 data: stored content hashes to",
             registered_id);
    expect_named(t, "changed field", (const char *[]){ stmt, NULL });

    /* a deleted current version: the search index's recomputation (one
     * pass over the records joined to their versions) names the record */
    copy_data(t);
    sql(t, "DELETE FROM record_versions WHERE (record_id, version) IN (SELECT id, version FROM"
           " birth_records ORDER BY created_at LIMIT 1)");
    {
        struct proc_result r;
        must_run(NULL, &r, (const char *[]){ "audit", "verify", "--data", t, NULL });
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.out, "row missing, the log made it"));
        assert_non_null(
            strstr(r.err, "recomputing the search index: search index: no record"));
        proc_result_free(&r);
    }

    /* a deleted event */
    copy_data(t);
    sql(t, "DELETE FROM events WHERE seq = 8");
    expect_named(t, "deleted event",
                 (const char *[]){ "event 8: missing from the log", "tree head 9:", NULL });

    /* two events swapped */
    copy_data(t);
    sql(t, "CREATE TABLE t AS SELECT * FROM events WHERE seq IN (9, 10);"
           "UPDATE events SET (type, actor, office, created_at, body, signature, leaf_hash) ="
           " (SELECT type, actor, office, created_at, body, signature, leaf_hash FROM t"
           " WHERE t.seq = 19 - events.seq) WHERE seq IN (9, 10); DROP TABLE t;");
    expect_named(t, "swapped events",
                 (const char *[]){ "event 9: the signed body says it is event 10",
                                   "event 10: the signed body says it is event 9", NULL });

    /* a replaced signature */
    copy_data(t);
    sql(t, "UPDATE events SET signature = randomblob(64) WHERE seq = 11");
    expect_named(t, "replaced signature", (const char *[]){ "event 11 (", "signature invalid", NULL });

    /* a replaced user public key */
    copy_data(t);
    sql(t, "UPDATE users SET public_key = randomblob(32) WHERE username = 'clerk2'");
    expect_named(t, "replaced key",
                 (const char *[]){ "users clerk2 public_key: stored x'", NULL });

    /* a changed blob file */
    copy_data(t);
    {
        char path[4096];
        assert_true(snprintf(path, sizeof path, "%s/blobs/%.2s/%.2s/%s", t, evidence_hash,
                             evidence_hash + 2, evidence_hash) < (int)sizeof path);
        assert_int_equal(chmod(path, 0640), 0);
        assert_int_equal(file_write(path, "forged page", 11), 0);
        snprintf(stmt, sizeof stmt, "%s: content changed", evidence_hash);
    }
    expect_named(t, "changed blob", (const char *[]){ stmt, NULL });

    /* the log truncated to an earlier size, tree heads with it */
    copy_data(t);
    sql(t, "DELETE FROM events WHERE seq >= 12; DELETE FROM tree_heads WHERE tree_size > 12;"
           " DELETE FROM event_objects WHERE seq >= 12;");
    expect_named(t, "truncated log",
                 (const char *[]){ "keys/tree-head.json: the office signed a log of",
                                   "(log truncated)", NULL });

    /* the witness of the last signed tree head deleted */
    copy_data(t);
    {
        char path[4096];
        assert_true(snprintf(path, sizeof path, "%s/keys/tree-head.json", t) < (int)sizeof path);
        assert_int_equal(unlink(path), 0);
    }
    expect_named(t, "deleted witness",
                 (const char *[]){ "keys/tree-head.json: missing, but the office signed", NULL });

    /* and the clean copy still verifies */
    copy_data(t);
    free(civreg_run_ok(NULL, (const char *[]){ "audit", "verify", "--data", t, NULL }));
}

/* ---- kill -9 in the middle of a 10,000-record import ---- */

static void test_kill_during_import(void **state)
{
    char jsonl[4096], line[256], *ids[10000];
    size_t n_ids = 0;
    char *one = NULL;
    pid_t pid;
    int fd, st;
    (void)state;

    snprintf(jsonl, sizeof jsonl, "%s/import.jsonl", root);
    {
        /* one record per line: the example without line breaks */
        struct buf { char *p; size_t len, cap; } b = { NULL, 0, 0 };
        size_t rl = strlen(rec_json), k = 0;
        one = malloc(rl + 2);
        assert_non_null(one);
        for (size_t i = 0; i < rl; i++)
            if (rec_json[i] != '\n')
                one[k++] = rec_json[i];
        one[k++] = '\n';
        one[k] = '\0';
        b.cap = 10000 * (strlen(one) + 1);
        b.p = malloc(b.cap);
        assert_non_null(b.p);
        for (int i = 0; i < 10000; i++) {
            memcpy(b.p + b.len, one, strlen(one));
            b.len += strlen(one);
        }
        assert_int_equal(file_write(jsonl, b.p, b.len), 0);
        free(b.p);
    }
    {
        char *argv[] = { (char *)CIVREG_BIN, (char *)"record", (char *)"import", (char *)"--jsonl",
                         jsonl, (char *)"--batch", (char *)"50", (char *)"--data", data,
                         (char *)"--user", (char *)"clerk1", (char *)"--password-file", pw_c1,
                         NULL };
        assert_int_equal(proc_spawn(argv, &pid, &fd), 0);
    }
    while (n_ids < 3000 && proc_read_line(fd, line, sizeof line, 60) == 0) {
        char *sp = strrchr(line, ' ');
        assert_non_null(strstr(line, "committed "));
        text_chomp(sp + 1);
        ids[n_ids++] = strdup(sp + 1);
    }
    assert_int_equal(n_ids, 3000);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st));
    /* lines already in the pipe are reports of commits too */
    while (n_ids < 10000 && proc_read_line(fd, line, sizeof line, 1) == 0) {
        char *sp = strrchr(line, ' ');
        if (sp == NULL || strncmp(line, "committed ", 10) != 0)
            break;
        text_chomp(sp + 1);
        ids[n_ids++] = strdup(sp + 1);
    }
    close(fd);
    free(one);

    free(civreg_run_ok(NULL, (const char *[]){ "db", "check", "--data", data, NULL }));
    free(civreg_run_ok(NULL, (const char *[]){ "audit", "verify", "--data", data, NULL }));
    {
        char path[4096];
        sqlite3 *h = NULL;
        sqlite3_stmt *q = NULL;
        assert_true(snprintf(path, sizeof path, "%s/civreg.db", data) < (int)sizeof path);
        assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(h, "SELECT 1 FROM birth_records WHERE id=?1", -1, &q,
                                            NULL),
                         SQLITE_OK);
        for (size_t i = 0; i < n_ids; i++) {
            sqlite3_reset(q);
            sqlite3_bind_text(q, 1, ids[i], -1, SQLITE_STATIC);
            if (sqlite3_step(q) != SQLITE_ROW)
                fail_msg("record %s reported committed is missing", ids[i]);
            free(ids[i]);
        }
        sqlite3_finalize(q);
        sqlite3_close(h);
    }
}

CMOCKA_MAIN(setup, teardown, test_passwords, test_lifecycle, test_audit_clean_trace_bundle,
            test_tamper, test_kill_during_import)
