/* Integration: the passport office through the real civreg binary. A birth
 * record (with its scanned page) is registered, then: enrolment, refusals
 * (approval by the enrolling officer, personalization before approval, a
 * second valid passport, names that do not match, a photo of the wrong
 * shape), approval, personalization checked with pdftotext, quality
 * control with a spoiled booklet, issuance, collection, theft, the alert
 * export, the auditor's trace from the
 * document number to the scan, and `audit verify`. Renewal, replacement
 * and eight concurrent approvals are in test_passport_concurrency.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/json.h"
#include "support/cmocka_main.h"
#include "support/support.h"

static char *root;
static char data[4096], scan_hash[80], uin[16], rec_example[8192];
static char photo[4096], landscape[4096], signature[4096];

static const char *const users[][2] = {
    { "clerk1", "clerk" },      { "clerk2", "clerk" },
    { "reg", "registrar" },     { "enrol", "enrolment_officer" },
    { "appr", "approver,enrolment_officer" }, { "oper", "issuance_operator" },
    { "audit", "auditor" },
};

static char *pwfile(const char *user)
{
    static char path[8][4096];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, 4096, "%s/%s.pw", root, user);
    return p;
}

static struct proc_result run(const char *in, const char *const args[])
{
    struct proc_result r;
    assert_int_equal(civreg_run(in, &r, args), 0);
    return r;
}

/* Run as USER: ARGS then --data, --user, --password-file appended. */
static struct proc_result run_as(const char *user, const char *in, const char *const args[])
{
    struct proc_result r;
    assert_int_equal(civreg_run_as(data, root, user, in, &r, args), 0);
    return r;
}

static char *ok_as(const char *user, const char *in, const char *const args[])
{
    return civreg_run_as_ok(data, root, user, in, args);
}

static void refused_as(const char *user, const char *const args[], const char *want)
{
    struct proc_result r = run_as(user, NULL, args);
    if (r.status != 1 || strstr(r.err, want) == NULL)
        fail_msg("civreg %s %s as %s: exit %d, expected 1 with '%s', got: %s", args[0],
                 args[1] ? args[1] : "", user, r.status, want, r.err);
    proc_result_free(&r);
}

static json_t *json_of(char *s)
{
    json_t *j = NULL;
    struct err err = ERR_INIT;
    if (json_parse(s, strlen(s), &j, &err) != 0)
        fail_msg("not JSON (%s): %s", err_msg(&err), s);
    free(s);
    return j;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (s == NULL)
        fail_msg("no string member '%s'", key);
    return s;
}

/* Register a person from the example record with another given name and
 * register entry; returns the UIN in OUT. */
static void register_person(const char *given, int entry, char out[16])
{
    char rec[8192], *p, *id, *res;
    json_t *j;
    snprintf(rec, sizeof rec, "%s", rec_example);
    p = strstr(rec, "Amélie Wanjiru");
    assert_non_null(p);
    {
        char tail[8192];
        snprintf(tail, sizeof tail, "%s", p + strlen("Amélie Wanjiru"));
        snprintf(p, sizeof rec - (size_t)(p - rec), "%s%s", given, tail);
    }
    p = strstr(rec, "\"entry\": 7");
    assert_non_null(p);
    {
        char tail[8192];
        snprintf(tail, sizeof tail, "%s", p + strlen("\"entry\": 7"));
        snprintf(p, sizeof rec - (size_t)(p - rec), "\"entry\": %d%s", entry, tail);
    }
    {
        /* every person after the first (the example itself, entry 7) is
         * a different person to duplicate detection: family name and birth
         * date from the entry number */
        static const char *const family[] = { "Achterberg", "Castellanos", "Dimitriou",
                                               "Fujimoto", "Gallagher", "Jankowski",
                                               "Lindqvist", "Nakamura" };
        const char *subst[][2] = { { "\"family_name\": \"Otieno\"", NULL },
                                   { "1987-03-12", NULL },
                                   { "\"registration_date\": \"1987-03-20\"", NULL } };
        char fam[64], date[16];
        snprintf(fam, sizeof fam, "\"family_name\": \"%s\"", family[entry % 8]);
        snprintf(date, sizeof date, "%04d-%02d-15", 1940 + entry % 70, 1 + entry % 12);
        subst[0][1] = fam;
        subst[1][1] = date;
        subst[2][1] = "\"registration_date\": \"2020-01-01\"";
        for (size_t i = 0; i < 3 && entry != 7; i++) {
            char tail[8192];
            p = strstr(rec, subst[i][0]);
            assert_non_null(p);
            snprintf(tail, sizeof tail, "%s", p + strlen(subst[i][0]));
            snprintf(p, sizeof rec - (size_t)(p - rec), "%s%s", subst[i][1], tail);
        }
    }
    id = ok_as("clerk1", rec, (const char *[]){ "record", "draft", NULL });
    id[strcspn(id, "\n")] = '\0';
    free(ok_as("clerk2", rec, (const char *[]){ "record", "verify", id, NULL }));
    res = ok_as("reg", NULL, (const char *[]){ "record", "register", id, NULL });
    j = json_of(res);
    snprintf(out, 16, "%s", jstr(j, "uin"));
    json_decref(j);
    free(id);
}

static int setup(void **state)
{
    char path[4096];
    struct proc_result r;
    (void)state;

    root = tmp_dir_paths("passport-cli",
                         (const struct tmp_path[]){ TMP_PATH(data, "data"), { 0 } });
    if (root == NULL)
        return -1;
    snprintf(photo, sizeof photo, "%s/issuance/portrait.jpg", CIVREG_TEST_DATA);
    snprintf(landscape, sizeof landscape, "%s/issuance/landscape.jpg", CIVREG_TEST_DATA);
    snprintf(signature, sizeof signature, "%s/issuance/signature.png", CIVREG_TEST_DATA);
    r = run(NULL, (const char *[]){ "init", "--data", data, NULL });
    assert_int_equal(r.status, 0);
    proc_result_free(&r);
    snprintf(path, sizeof path, "%s/admin.pw", root);
    assert_int_equal(file_write(path, "ad-tundra-ferns-61\n", strlen("ad-tundra-ferns-61\n")), 0);
    r = run("ad-tundra-ferns-61\n", (const char *[]){ "user", "add", "--data", data, "--username",
                                                  "admin", "--role", "admin", NULL });
    assert_int_equal(r.status, 0);
    proc_result_free(&r);
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
        char pw[64];
        snprintf(pw, sizeof pw, "%.2s-tundra-ferns-61\n", users[i][0]);
        assert_int_equal(file_write(pwfile(users[i][0]), pw, strlen(pw)), 0);
        free(ok_as("admin", pw, (const char *[]){ "user", "add", "--username", users[i][0],
                                                  "--role", users[i][1], NULL }));
    }
    /* The scanned register page the record rests on. */
    {
        char *h = ok_as("clerk1", NULL, (const char *[]){ "evidence", "add", signature,
                                                           "--media-type", "image/png", NULL });
        h[strcspn(h, "\n")] = '\0';
        snprintf(scan_hash, sizeof scan_hash, "%s", h);
        free(h);
    }
    civreg_example_record(scan_hash, rec_example, sizeof rec_example);
    register_person("Amélie Wanjiru", 7, uin);
    return 0;
}

TMP_DIR_TEARDOWN(root)

static void add_approver(const char *name)
{
    char pw[64];
    snprintf(pw, sizeof pw, "%.2s-tundra-ferns-61\n", name);
    assert_int_equal(file_write(pwfile(name), pw, strlen(pw)), 0);
    free(ok_as("admin", pw, (const char *[]){ "user", "add", "--username", name, "--role",
                                              "approver", NULL }));
}

static json_t *enrol(const char *user, const char *person, const char *const extra[])
{
    const char *args[24] = { "application", "enrol", "--uin", person, "--photo", photo,
                             "--signature", signature };
    size_t n = 8;
    for (size_t i = 0; extra && extra[i]; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    return json_of(ok_as(user, NULL, args));
}

static void test_workflow(void **state)
{
    json_t *app, *p, *doc, *trace;
    char id[80], number[32], pdf[4096], mrz[128];
    struct proc_result r;
    (void)state;

    /* Refusals before anything exists. */
    refused_as("enrol", (const char *[]){ "application", "enrol", "--uin", uin, "--photo",
                                          landscape, NULL },
               "photo: aspect ratio 600x450");
    refused_as("enrol", (const char *[]){ "application", "enrol", "--uin", uin, "--photo", photo,
                                          "--surname", "Smith", NULL },
               "surname 'Smith' does not match the birth record's 'Otieno'");
    refused_as("enrol", (const char *[]){ "application", "enrol", "--uin", "2000000000",
                                          "--photo", photo, NULL },
               "enrolment");

    /* appr enrols (it also holds the enrolment officer role) ... */
    app = enrol("appr", uin, (const char *[]){ "--contact", "{\"phone\":\"+254 700 000000\"}",
                                               "--surname", "OTIENO", NULL });
    snprintf(id, sizeof id, "%s", jstr(app, "id"));
    assert_string_equal(jstr(app, "status"), "submitted");
    assert_int_equal(json_array_size(json_object_get(app, "checks")), 4);
    json_decref(app);

    /* ... so appr may not approve it (four eyes); nothing else jumps ahead. */
    refused_as("appr", (const char *[]){ "application", "approve", id, NULL },
               "four-eyes rule: appr enrolled application");
    refused_as("oper", (const char *[]){ "application", "personalize", id, NULL },
               "personalization refused: application");
    refused_as("enrol", (const char *[]){ "application", "enrol", "--uin", uin, "--photo", photo,
                                          NULL },
               "a second valid passport is not allowed");
    refused_as("enrol", (const char *[]){ "booklet", "receive", "--type", "TD3", "--first",
                                          "A001", "--last", "A002", "--reference", "x", NULL },
               "booklet manage: refused: user 'enrol' does not hold");
    free(ok_as("oper", NULL, (const char *[]){ "booklet", "receive", "--type", "TD3", "--first",
                                               "P000100", "--last", "P000149", "--reference",
                                               "delivery note 2026-17", NULL }));
    free(ok_as("oper", NULL, (const char *[]){ "booklet", "receive", "--type", "TD1", "--first",
                                               "C000100", "--last", "C000109", "--reference",
                                               "delivery note 2026-18", NULL }));

    /* The issuing state's PKI: a CSCA and a document signer, so that
     * personalization signs the chip too. */
    free(ok_as("admin", NULL, (const char *[]){ "pki", "init", "--country", "UT", NULL }));
    free(ok_as("admin", NULL, (const char *[]){ "pki", "issue-ds", NULL }));

    /* A second approver: number and booklet allocated. */
    add_approver("appr2");
    app = json_of(ok_as("appr2", NULL, (const char *[]){ "application", "approve", id, NULL }));
    assert_string_equal(jstr(app, "status"), "approved");
    snprintf(number, sizeof number, "%s", jstr(app, "document_number"));
    assert_string_equal(number, "HQ0000001");
    assert_string_equal(jstr(app, "booklet_serial"), "P000100");
    json_decref(app);

    /* Personalization: the PDF's MRZ is the application's. */
    snprintf(pdf, sizeof pdf, "%s/page.pdf", root);
    p = json_of(ok_as("oper", NULL, (const char *[]){ "application", "personalize", id, "--out",
                                                      pdf, NULL }));
    snprintf(mrz, sizeof mrz, "%s", jstr(p, "mrz"));
    assert_non_null(json_string_value(json_object_get(p, "chip")));
    assert_int_equal(strlen(mrz), 89);
    assert_true(strncmp(mrz, "P<UTOOTIENO<<AMELIE<WANJIRU<", 28) == 0);
    assert_true(strncmp(mrz + 45, "HQ0000001", 9) == 0);
    json_decref(p);
    {
        char *argv[] = { (char *)PDFTOTEXT, pdf, (char *)"-", NULL };
        char l1[64], *nl = strchr(mrz, '\n');
        assert_non_null(nl);
        snprintf(l1, sizeof l1, "%.*s\n%s\n", (int)(nl - mrz), mrz, nl + 1);
        assert_int_equal(proc_run(argv, NULL, 0, 30, &r), 0);
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, l1));
        proc_result_free(&r);
    }

    /* The chip package from the same data: passive authentication against
     * the CSCA, and DG1 equal to the printed MRZ. */
    {
        char dir[4096], csca[4096], *pem;
        snprintf(dir, sizeof dir, "%s/chip", root);
        snprintf(csca, sizeof csca, "%s/csca.pem", root);
        free(ok_as("oper", NULL, (const char *[]){ "application", "chip", id, "--out", dir, NULL }));
        pem = ok_as("admin", NULL, (const char *[]){ "pki", "export", "csca", NULL });
        assert_int_equal(file_write(csca, pem, strlen(pem)), 0);
        free(pem);
        r = run(NULL, (const char *[]){ "chip", "verify", dir, "--csca", csca, "--mrz", mrz, NULL });
        if (r.status != 0)
            fail_msg("chip verify: %s %s", r.out, r.err);
        assert_non_null(strstr(r.out, "\"valid\": true"));
        proc_result_free(&r);
    }

    /* Quality control fails: the booklet is spoiled, a fresh one printed. */
    refused_as("oper", (const char *[]){ "application", "issue", id, NULL },
               "issued after it passes quality control");
    free(ok_as("oper", NULL, (const char *[]){ "application", "qc", id, "--fail", "--reason",
                                               "smudged MRZ", NULL }));
    p = json_of(ok_as("oper", NULL, (const char *[]){ "application", "personalize", id, NULL }));
    assert_string_equal(jstr(p, "booklet"), "P000101");
    json_decref(p);
    /* QC reads the chip back through the reader path (BAC, passive and
     * active authentication against the office's CSCA) */
    p = json_of(ok_as("oper", NULL, (const char *[]){ "application", "qc", id, "--pass", NULL }));
    assert_true(json_is_true(json_object_get(json_object_get(p, "chip_readback"), "valid")));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(p, "chip_readback"), "access"),
                            "protocol")),
                        "BAC");
    json_decref(p);
    free(ok_as("oper", NULL, (const char *[]){ "application", "issue", id, NULL }));
    free(ok_as("oper", NULL, (const char *[]){ "application", "collect", id, NULL }));
    doc = json_of(ok_as("oper", NULL, (const char *[]){ "document", "show", number, NULL }));
    assert_string_equal(jstr(doc, "status"), "valid");
    assert_string_equal(jstr(doc, "booklet_serial"), "P000101");
    json_decref(doc);
    p = json_of(ok_as("audit", NULL, (const char *[]){ "booklet", "report", NULL }));
    {
        json_t *td3 = json_object_get(json_object_get(p, "types"), "TD3");
        assert_int_equal(json_integer_value(json_object_get(td3, "spoiled")), 1);
        assert_int_equal(json_integer_value(json_object_get(td3, "personalized")), 1);
        assert_int_equal(json_integer_value(json_object_get(td3, "blank")), 48);
    }
    json_decref(p);

    /* Stolen: on the alert list, in CSV and JSON. */
    refused_as("enrol", (const char *[]){ "document", "status", number, "--status", "found",
                                          "--reason", "x", NULL },
               "document status 'found': lost, stolen, revoked, cancelled or expired");
    refused_as("enrol", (const char *[]){ "document", "status", number, "--status", "revoked",
                                          "--reason", "x", NULL },
               "enrol may not change document status: needs role approver or admin");
    free(ok_as("enrol", NULL, (const char *[]){ "document", "status", number, "--status",
                                                "stolen", "--reason", "reported by the holder, "
                                                "police report 77", "--evidence", scan_hash,
                                                NULL }));
    {
        char *csv = ok_as("audit", NULL, (const char *[]){ "document", "alerts", NULL });
        assert_non_null(strstr(csv, "document_number,document_type,issuing_country,status,"));
        assert_non_null(strstr(csv, "HQ0000001,passport,UTO,STOLEN,"));
        assert_non_null(strstr(csv, ",personalized,\"reported by the holder, police report 77\""));
        free(csv);
        p = json_of(ok_as("audit", NULL, (const char *[]){ "document", "alerts", "--format",
                                                           "json", NULL }));
        assert_string_equal(jstr(json_array_get(json_object_get(p, "documents"), 0),
                                 "document_number"), number);
        json_decref(p);
    }
    /* A reason written as a spreadsheet formula is exported as text. */
    free(ok_as("appr", NULL, (const char *[]){ "document", "status", number, "--status",
                                               "revoked", "--reason",
                                               "=HYPERLINK(\"http://x.example/?d\",\"open\")",
                                               NULL }));
    {
        char *csv = ok_as("audit", NULL, (const char *[]){ "document", "alerts", NULL });
        if (strstr(csv, ",\"'=HYPERLINK(\"\"http://x.example/?d\"\",\"\"open\"\")\"\r\n") == NULL)
            fail_msg("formula not neutralised: %s", csv);
        assert_null(strstr(csv, ",=HYPERLINK"));
        assert_null(strstr(csv, ",\"=HYPERLINK"));
        free(csv);
    }

    /* The auditor traces the first document number back to the scan. */
    refused_as("oper", (const char *[]){ "document", "trace", number, NULL }, "audit trace");
    trace = json_of(ok_as("audit", NULL, (const char *[]){ "document", "trace", number, NULL }));
    {
        json_t *evs = json_object_get(trace, "document_events"), *t = json_object_get(trace,
                                                                                       "trace");
        const char *want[] = { "application.enrol", "application.approve", "document.personalize",
                               "application.qc.fail", "application.qc.pass", "document.issue",
                               "document.collect", "document.status" };
        char types[2048] = "";
        size_t i;
        json_t *e;
        json_array_foreach(evs, i, e) {
            size_t n = strlen(types);
            snprintf(types + n, sizeof types - n, "%s;", jstr(e, "type"));
            assert_true(json_is_true(json_object_get(e, "signature_valid")));
        }
        for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
            if (strstr(types, want[k]) == NULL)
                fail_msg("trace lacks %s: %s", want[k], types);
        /* ... through the registration of the birth record ... */
        types[0] = '\0';
        json_array_foreach(json_object_get(t, "events"), i, e) {
            size_t n = strlen(types);
            snprintf(types + n, sizeof types - n, "%s;", jstr(e, "type"));
        }
        assert_non_null(strstr(types, "record.draft;"));
        assert_non_null(strstr(types, "record.register;"));
        /* ... to the scanned page. */
        char *dump = json_dumps(json_object_get(t, "evidence"), 0);
        assert_non_null(strstr(dump, scan_hash));
        free(dump);
    }
    json_decref(trace);
    /* `civreg audit trace` takes the document number too. */
    trace = json_of(ok_as("audit", NULL, (const char *[]){ "audit", "trace", number, NULL }));
    assert_string_equal(jstr(json_object_get(trace, "document"), "number"), number);
    assert_true(json_array_size(json_object_get(trace, "document_events")) >= 8);
    json_decref(trace);
    {
        char *v = civreg_run_ok(NULL, (const char *[]){ "audit", "verify", "--data", data, NULL });
        assert_non_null(strstr(v, "ok:"));
        free(v);
    }
}

/* An approved application of a newly registered person (entry ENTRY). */
static void approved_application(int entry, char id[80])
{
    char person[16];
    json_t *app;
    register_person("Baraka Juma", entry, person);
    app = enrol("enrol", person, NULL);
    snprintf(id, 80, "%s", jstr(app, "id"));
    json_decref(app);
    json_decref(json_of(ok_as("appr", NULL, (const char *[]){ "application", "approve", id,
                                                              NULL })));
}

/* Holder data altered in the database so that it lacks the sex: a clear
 * refusal, not a crash, and nothing personalized. */
static void test_holder_without_sex(void **state)
{
    char id[80], sql[512];
    (void)state;

    approved_application(31, id);
    /* kept, to put back: `audit verify` (run by a later test) names an
     * application whose holder differs from the one its enrolment logged */
    snprintf(sql, sizeof sql, "CREATE TABLE test_holder AS SELECT holder FROM applications WHERE "
                              "id = '%s'", id);
    data_sql(data, sql);
    snprintf(sql, sizeof sql,
             "UPDATE applications SET holder = json_remove(holder, '$.sex') WHERE id = '%s'", id);
    data_sql(data, sql);
    refused_as("oper", (const char *[]){ "application", "personalize", id, NULL },
               "application holder data: sex missing or invalid");
    snprintf(sql, sizeof sql,
             "UPDATE applications SET holder = json_set(holder, '$.sex', '') WHERE id = '%s'", id);
    data_sql(data, sql);
    refused_as("oper", (const char *[]){ "application", "personalize", id, NULL },
               "application holder data: sex missing or invalid");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM applications WHERE id = '%s' AND status = "
                              "'approved'", id);
    assert_int_equal(data_sql_long(data, sql), 1);
    snprintf(sql, sizeof sql, "UPDATE applications SET holder = (SELECT holder FROM test_holder) "
                              "WHERE id = '%s'", id);
    data_sql(data, sql);
    data_sql(data, "DROP TABLE test_holder");
}

/* A failure after the chip was signed (injected: a trigger refuses the
 * document's update) leaves neither the document nor the chip's signed
 * chip.personalize event: both are in one transaction. */
static void test_chip_event_in_document_transaction(void **state)
{
    char id[80];
    long chips = data_sql_long(data, "SELECT count(*) FROM events WHERE type = 'chip.personalize'");
    long docs =
        data_sql_long(data, "SELECT count(*) FROM events WHERE type = 'document.personalize'");
    (void)state;

    approved_application(32, id);
    data_sql(data,
             "CREATE TRIGGER test_refuse_document BEFORE UPDATE OF date_of_issue ON documents "
             "BEGIN SELECT RAISE(ABORT, 'injected failure after the chip was signed'); END");
    refused_as("oper", (const char *[]){ "application", "personalize", id, NULL },
               "injected failure after the chip was signed");
    data_sql(data, "DROP TRIGGER test_refuse_document");
    assert_int_equal(
        data_sql_long(data, "SELECT count(*) FROM events WHERE type = 'chip.personalize'"), chips);
    assert_int_equal(
        data_sql_long(data, "SELECT count(*) FROM events WHERE type = 'document.personalize'"),
        docs);
    /* and without the fault: one chip event, committed with the document */
    {
        json_t *p = json_of(ok_as("oper", NULL, (const char *[]){ "application", "personalize",
                                                                  id, NULL }));
        assert_non_null(json_string_value(json_object_get(p, "chip")));
        json_decref(p);
    }
    assert_int_equal(
        data_sql_long(data, "SELECT count(*) FROM events WHERE type = 'chip.personalize'"),
        chips + 1);
    {
        char *v = civreg_run_ok(NULL, (const char *[]){ "audit", "verify", "--data", data, NULL });
        assert_non_null(strstr(v, "ok:"));
        free(v);
    }
}

/* The path of blob HASH in the data directory's store. */
static void blob_file(const char *hash, char *out, size_t n)
{
    snprintf(out, n, "%s/blobs/%.2s/%.2s/%s", data, hash, hash + 2, hash);
}

static json_t *chip_manifest(const char *chip_hash)
{
    char path[4600];
    size_t len;
    char *m;
    json_t *j;
    blob_file(chip_hash, path, sizeof path);
    m = file_read(path, &len);
    assert_non_null(m);
    j = json_loadb(m, len, 0, NULL);
    assert_non_null(j);
    free(m);
    return j;
}

/* Quality control reads every chip back as a border would (BAC, passive,
 * active and chip authentication) and keeps the report as evidence cited
 * by the signed QC event; the chip's private keys are sealed, never in a
 * package; a package altered after personalization fails QC and the
 * document cannot be issued. */
static void test_qc_reads_chip_back(void **state)
{
    char id[80], id2[80], sql[512], dir[4200], path[4600], hash[80];
    json_t *p, *m;
    (void)state;

    approved_application(33, id);
    p = json_of(ok_as("oper", NULL, (const char *[]){ "application", "personalize", id, NULL }));
    m = chip_manifest(jstr(p, "chip"));
    json_decref(p);
    assert_non_null(json_object_get(m, "010E")); /* DG14: Chip Authentication */
    assert_non_null(json_object_get(m, "010F")); /* DG15: Active Authentication */
    assert_non_null(json_object_get(json_object_get(m, "sealed_keys"), "aa"));
    assert_non_null(json_object_get(json_object_get(m, "sealed_keys"), "ca"));
    json_decref(m);
    /* the exported package holds the chip's files, not its private keys */
    snprintf(dir, sizeof dir, "%s/chip33", root);
    free(ok_as("oper", NULL, (const char *[]){ "application", "chip", id, "--out", dir, NULL }));
    snprintf(path, sizeof path, "%s/010E", dir);
    assert_int_equal(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/aa-private-key.p8", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/ca-private-key.p8", dir);
    assert_int_not_equal(access(path, F_OK), 0);

    p = json_of(ok_as("oper", NULL, (const char *[]){ "application", "qc", id, "--pass", NULL }));
    {
        json_t *r = json_object_get(p, "chip_readback");
        assert_true(json_is_true(json_object_get(r, "valid")));
        assert_string_equal(jstr(json_object_get(r, "aa"), "status"), "valid");
        assert_string_equal(jstr(json_object_get(r, "ca"), "status"), "passed");
        snprintf(hash, sizeof hash, "%s", jstr(p, "chip_readback_evidence"));
    }
    json_decref(p);
    assert_int_equal(strlen(hash), 64);
    blob_file(hash, path, sizeof path);
    {
        size_t len;
        char *rep = file_read(path, &len);
        assert_non_null(rep);
        assert_non_null(strstr(rep, "\"chip_authentication\""));
        free(rep);
    }
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE type = 'application.qc.pass' AND "
                              "body LIKE '%%%s%%'", hash);
    assert_int_equal(data_sql_long(data, sql), 1);
    free(ok_as("oper", NULL, (const char *[]){ "application", "issue", id, NULL }));

    /* DG2 altered in the evidence store after personalization */
    approved_application(34, id2);
    p = json_of(ok_as("oper", NULL, (const char *[]){ "application", "personalize", id2, NULL }));
    m = chip_manifest(jstr(p, "chip"));
    json_decref(p);
    blob_file(jstr(m, "0102"), path, sizeof path);
    json_decref(m);
    {
        size_t len;
        char *dg2 = file_read(path, &len);
        assert_non_null(dg2);
        assert_true(len > 300);
        assert_int_equal(chmod(path, 0644), 0);
        dg2[300] ^= 0x01;
        assert_int_equal(file_write(path, dg2, len), 0);
        refused_as("oper", (const char *[]){ "application", "qc", id2, "--pass", NULL },
                   "quality control failed and was recorded: chip read-back: ");
        snprintf(sql, sizeof sql, "SELECT count(*) FROM applications WHERE id = '%s' AND status "
                                  "= 'qc_failed'", id2);
        assert_int_equal(data_sql_long(data, sql), 1);
        refused_as("oper", (const char *[]){ "application", "issue", id2, NULL },
                   "issued after it passes quality control");
        dg2[300] ^= 0x01; /* put back, for `audit verify` */
        assert_int_equal(file_write(path, dg2, len), 0);
        free(dg2);
    }
    {
        char *v = civreg_run_ok(NULL, (const char *[]){ "audit", "verify", "--data", data, NULL });
        assert_non_null(strstr(v, "ok:"));
        free(v);
    }
}

CMOCKA_MAIN(setup, teardown, test_workflow, test_holder_without_sex,
            test_chip_event_in_document_transaction, test_qc_reads_chip_back)
