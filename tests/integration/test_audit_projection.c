/* `audit verify` proves that every stored fact is a replay of the signed
 * log. One data directory is populated through the real civreg binary
 * (users added, disabled and re-keyed, evidence, records in every state,
 * corrections, a resolved duplicate pair, a death, a certified extract, a
 * scan import with a separator sheet, the ICAO PKI with a rollover, a
 * revoked signer and CRLs, booklet stock received, reserved, personalized
 * and spoiled, a passport issued, collected and reported stolen, a
 * rejected application); then, on a copy per edit:
 *   - every column of every table (the list read from the schema at run
 *     time) is changed in one row: audit verify must exit 1 naming that
 *     table, row and column;
 *   - every table loses one row: audit verify must name the row;
 *   - two events swap bodies.
 * Tables and columns deliberately not in the log are listed below with
 * their reason (docs/registry.md says the same). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "support/cmocka_main.h"
#include "support/support.h"

static char *root;
static char data[4096], copy[4096];
static char pw_admin[4096], pw_c1[4096], pw_c2[4096], pw_reg[4096];

/* Tables the log does not define, and why. */
static const char *const excluded_tables[][2] = {
    { "settings", "installation settings written by `civreg init` (configuration)" },
    { "schema_migrations", "the schema's own history, checked by `civreg db check`" },
    { "scan_imports", "progress counters of one import run; its pages and evidence are logged" },
    { "search_fts_", "FTS5's own storage behind the search_fts virtual table (compared there)" },
    { "search_tri_", "FTS5's own storage behind the search_tri virtual table (compared there)" },
    { "national_deaths", "deaths of other districts as the national tier passed them on (a cache "
                         "of the nation's word, not this office's log)" },
    { "uin_pool", "the blocks of UINs the national tier reserved for this office (the nation "
                  "holds the reservation; each UIN drawn is in the signed record.register event)" },
};

/* Columns deliberately not in the log, and why. */
static const char *const excluded_columns[][3] = {
    { "users", "pw_hash", "a password verifier: a secret, changed by user.passwd unlogged" },
    { "users", "key_salt", "the salt sealing the user's key, changes with the password" },
    { "users", "sealed_key", "the user's signing key sealed under the password (a secret)" },
    { "users", "epoch", "a session generation counter: every account change bumps it, a password "
                        "change included, which is not logged; the server compares it" },
    { "office_keys", "sealed_key", "the office log key sealed under keys/office-<CODE>.key" },
    { "pki_certs", "key_sealed", "a signer's private key sealed under keys/pki.key (a secret); "
                                 "its certificate is logged by hash" },
    { "dup_candidates", "why", "found by the search when keyed, not logged" },
    { "dup_candidates", "found_at", "found by the search when keyed, not logged" },
};

static bool table_excluded(const char *t)
{
    for (size_t i = 0; i < sizeof excluded_tables / sizeof excluded_tables[0]; i++) {
        size_t n = strlen(excluded_tables[i][0]);
        if (excluded_tables[i][0][n - 1] == '_' ? strncmp(t, excluded_tables[i][0], n) == 0
                                                : strcmp(t, excluded_tables[i][0]) == 0)
            return true;
    }
    return false;
}

static bool column_excluded(const char *t, const char *c)
{
    for (size_t i = 0; i < sizeof excluded_columns / sizeof excluded_columns[0]; i++)
        if (strcmp(t, excluded_columns[i][0]) == 0 && strcmp(c, excluded_columns[i][1]) == 0)
            return true;
    return false;
}

/* ---- driving civreg ---- */

static void write_pw(char *path, const char *name, const char *pw)
{
    snprintf(path, 4096, "%s/%s.pw", root, name);
    assert_int_equal(file_write(path, pw, strlen(pw)), 0);
}

static char *as(const char *user, const char *in, const char *const args[])
{
    return civreg_run_as_ok(data, root, user, in, args);
}

static char example[8192];

/* The example record with its names and date changed: records that do not
 * resemble each other (no duplicate candidates) unless TAG repeats. */
static char *record_json(const char *tag, const char *evidence)
{
    static char out[8192];
    char buf[8192];
    const char *p;
    size_t n = 0;
    snprintf(buf, sizeof buf, "%s", example);
    /* names: every "Otieno" becomes the tag's family name */
    for (p = buf; *p && n < sizeof out - 64;) {
        if (strncmp(p, "Otieno", 6) == 0) {
            n += (size_t)snprintf(out + n, sizeof out - n, "%s", tag);
            p += 6;
        } else if (strncmp(p, "Amélie Wanjiru", strlen("Amélie Wanjiru")) == 0) {
            n += (size_t)snprintf(out + n, sizeof out - n, "%s Child", tag);
            p += strlen("Amélie Wanjiru");
        } else if (strncmp(p, "\"evidence\": []", 14) == 0 && evidence) {
            n += (size_t)snprintf(out + n, sizeof out - n, "\"evidence\": [\"%s\"]", evidence);
            p += 14;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    return out;
}

static void draft(const char *tag, const char *evidence, char *id, size_t size)
{
    char *out = as("clerk1", record_json(tag, evidence), (const char *[]){ "record", "draft",
                                                                           NULL });
    text_chomp(out);
    snprintf(id, size, "%s", out);
    free(out);
}

static void verify(const char *tag, const char *evidence, const char *id)
{
    free(as("clerk2", record_json(tag, evidence), (const char *[]){ "record", "verify", id, NULL }));
}

static void registered(const char *tag, const char *evidence, char *id, size_t size, char *uin)
{
    char *out, *u;
    draft(tag, evidence, id, size);
    verify(tag, evidence, id);
    out = as("reg", NULL, (const char *[]){ "record", "register", id, NULL });
    u = strstr(out, "\"uin\": \"");
    assert_non_null(u);
    snprintf(uin, 16, "%.10s", u + 8);
    free(out);
}

static void scan_fixture(void)
{
    char dir[3000], sep[4096], prefix[4096], page[4096];
    struct proc_result r;
    snprintf(dir, sizeof dir, "%s/scans", root);
    snprintf(sep, sizeof sep, "%s/sep.pdf", root);
    snprintf(prefix, sizeof prefix, "%s/page-01", dir);
    snprintf(page, sizeof page, "%s/page-02.pgm", dir);
    {
        char cmd[8300];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
        assert_int_equal(system(cmd), 0);
    }
    free(civreg_run_ok(NULL, (const char *[]){ "scan", "separator", "--office", "HQ", "--year", "1987",
                                        "--volume", "12", "--out", sep, NULL }));
    {
        char *argv[] = { "/usr/bin/pdftoppm", "-r", "150", "-gray", "-png", "-singlefile", sep,
                         prefix, NULL };
        assert_int_equal(proc_run(argv, NULL, 0, 60, &r), 0);
        assert_int_equal(r.status, 0);
        proc_result_free(&r);
    }
    {
        /* a blank page: quality flags set */
        static unsigned char pgm[32 + 240 * 320];
        int h = snprintf((char *)pgm, 32, "P5\n240 320\n255\n");
        memset(pgm + h, 0xff, 240 * 320);
        assert_int_equal(file_write(page, pgm, (size_t)h + 240 * 320), 0);
    }
    free(civreg_run_ok(NULL, (const char *[]){ "scan", "import", "--data", data, "--user", "clerk1",
                                        "--password-file", pw_c1, dir, NULL }));
}


static char stolen[32]; /* the passport reported stolen */

static void add_user(const char *name, const char *roles)
{
    char path[4096], pw[64], rev[16];
    size_t n = strlen(name);
    /* the name backwards: a password may not contain the user name */
    for (size_t i = 0; i < n && i < sizeof rev - 1; i++)
        rev[i] = name[n - 1 - i];
    rev[n < sizeof rev - 1 ? n : sizeof rev - 1] = '\0';
    snprintf(pw, sizeof pw, "%s-tundra-ferns-61\n", rev);
    write_pw(path, name, pw);
    free(as("admin", pw, (const char *[]){ "user", "add", "--username", name, "--role", roles,
                                           NULL }));
}

/* Blank booklets FIRST to LAST of TYPE received by the operator, delivery
 * note REFERENCE. */
static void booklets_received(const char *type, const char *first, const char *last,
                              const char *reference)
{
    free(as("oper", NULL, (const char *[]){ "booklet", "receive", "--type", type, "--first", first,
                                            "--last", last, "--reference", reference, NULL }));
}

/* The passport office and the PKI: a CSCA rolled over (a link certificate,
 * the old CSCA retired), document signers (one revoked), CRLs; booklet
 * deliveries, one blank spoiled; a number pattern set; an application
 * approved, misprinted (quality control failed, the booklet spoiled),
 * personalized again, issued, collected and reported stolen; another
 * rejected. */
static void passport_fixture(const char *evidence)
{
    char id[64], uin[16], app[80], app2[80], ds[64], pdf[4096], photo[4096], sig[4096];
    add_user("enrol", "enrolment_officer");
    add_user("appr", "approver");
    add_user("oper", "issuance_operator");
    snprintf(photo, sizeof photo, "%s/issuance/portrait.jpg", CIVREG_TEST_DATA);
    snprintf(sig, sizeof sig, "%s/issuance/signature.png", CIVREG_TEST_DATA);
    free(as("admin", NULL, (const char *[]){ "pki", "rollover", NULL }));
    free(as("admin", NULL, (const char *[]){ "pki", "issue-ds", NULL }));
    json_member_take(as("admin", NULL, (const char *[]){ "pki", "issue-ds", NULL }), "serial",
                     ds, sizeof ds);
    free(as("admin", NULL, (const char *[]){ "pki", "revoke", ds, NULL }));
    free(as("admin", NULL, (const char *[]){ "pki", "crl", NULL }));
    free(as("admin", NULL, (const char *[]){ "document", "series", "--type", "TD1", "--pattern",
                                             "ID{seq:7}", NULL }));
    booklets_received("TD3", "P000100", "P000104", "delivery note 2026-17");
    booklets_received("TD1", "C0100", "C0101", "delivery note 2026-18");
    free(as("oper", NULL, (const char *[]){ "booklet", "spoil", "C0100", "--reason",
                                            "water damage in the strong room", NULL }));
    registered("Mutua", evidence, id, sizeof id, uin);
    json_member_take(as("enrol", NULL,
                        (const char *[]){ "application", "enrol", "--uin", uin, "--photo", photo,
                                          "--signature", sig, "--contact",
                                          "{\"phone\":\"+254 700 000000\"}", NULL }),
                     "id", app, sizeof app);
    json_member_take(as("appr", NULL, (const char *[]){ "application", "approve", app, NULL }),
                     "document_number", stolen, sizeof stolen);
    snprintf(pdf, sizeof pdf, "%s/page.pdf", root);
    free(as("oper", NULL, (const char *[]){ "application", "personalize", app, "--out", pdf,
                                            NULL }));
    free(as("oper", NULL, (const char *[]){ "application", "qc", app, "--fail", "--reason",
                                            "ink smeared on the data page", NULL }));
    free(as("oper", NULL, (const char *[]){ "application", "personalize", app, NULL }));
    free(as("oper", NULL, (const char *[]){ "application", "qc", app, "--pass", NULL }));
    free(as("oper", NULL, (const char *[]){ "application", "issue", app, NULL }));
    free(as("oper", NULL, (const char *[]){ "application", "collect", app, NULL }));
    {
        char ev[100];
        snprintf(ev, sizeof ev, "%s", evidence);
        free(as("enrol", NULL, (const char *[]){ "document", "status", stolen, "--status",
                                                 "stolen", "--reason",
                                                 "reported by the holder, police report 77",
                                                 "--evidence", ev, NULL }));
    }
    /* an identity card application, rejected */
    registered("Chebet", NULL, id, sizeof id, uin);
    json_member_take(as("enrol", NULL,
                        (const char *[]){ "application", "enrol", "--uin", uin, "--photo", photo,
                                          "--type", "TD1", NULL }),
                     "id", app2, sizeof app2);
    free(as("appr", NULL, (const char *[]){ "application", "reject", app2, "--reason",
                                            "the portrait is not recent", NULL }));
}

static int setup(void **state)
{
    char path[4096], evidence[80], id[64], id2[64], uin[16], *out;
    (void)state;
    if ((root = tmp_data_dir("audit-projection", data, sizeof data, NULL)) == NULL)
        return -1;
    snprintf(copy, sizeof copy, "%s/copy", root);
    civreg_staff_add(data, root, "clerk", "registrar,auditor", pw_admin, pw_c1, pw_c2, pw_reg);
    /* a user disabled, and one whose key an admin replaced */
    free(as("admin", "pmet-tundra-ferns-61\n",
            (const char *[]){ "user", "add", "--username", "temp", "--role", "clerk", NULL }));
    free(as("admin", NULL, (const char *[]){ "user", "disable", "--username", "temp", NULL }));
    free(as("admin", "3krelc-tundra-ferns-61\n",
            (const char *[]){ "user", "add", "--username", "clerk3", "--role", "clerk", NULL }));
    free(as("admin", "3krelc-new-tundra-ferns-61\n",
            (const char *[]){ "user", "passwd", "--username", "clerk3", NULL }));
    free(as("admin", NULL, (const char *[]){ "pki", "init", "--country", "UT", NULL }));
    free(as("admin", NULL, (const char *[]){ "pki", "issue-barcode-signer", NULL }));

    snprintf(path, sizeof path, "%s/page-112.png", root);
    assert_int_equal(file_write(path, "\x89PNG\r\n\x1a\n page 112", 18), 0);
    out = as("clerk1", NULL, (const char *[]){ "evidence", "add", path, "--media-type",
                                               "image/png", NULL });
    text_chomp(out);
    snprintf(evidence, sizeof evidence, "%s", out);
    free(out);
    out = civreg_run_ok(NULL, (const char *[]){ "record", "draft", "--example", NULL });
    snprintf(example, sizeof example, "%s", out);
    free(out);

    /* a draft; a verified record; a verified record corrected back to draft */
    draft("Kamau", NULL, id, sizeof id);
    draft("Mwangi", NULL, id, sizeof id);
    verify("Mwangi", NULL, id);
    draft("Njoroge", NULL, id, sizeof id);
    verify("Njoroge", NULL, id);
    free(as("clerk1", record_json("Njorogi", NULL),
            (const char *[]){ "record", "correct", id, "--reason", "family name misread",
                              "--evidence", evidence, NULL }));
    /* registered, then corrected by a registrar (a second link) and extracted */
    registered("Odhiambo", evidence, id, sizeof id, uin);
    free(as("reg", record_json("Odhiambu", evidence),
            (const char *[]){ "record", "correct", id, "--reason", "district misread",
                              "--evidence", evidence, NULL }));
    {
        char pdf[4096];
        snprintf(pdf, sizeof pdf, "%s/x.pdf", root);
        free(as("clerk1", NULL, (const char *[]){ "extract", "issue", uin, "--out", pdf, NULL }));
    }
    /* registered, then died */
    registered("Wekesa", NULL, id, sizeof id, uin);
    free(as("reg", NULL, (const char *[]){ "death", "register", uin, "--date", "2025-06-01",
                                           "--locality", "Kisumu", "--district", "Kisumu Central",
                                           "--informant", "A. Informant", NULL }));
    /* the same entry keyed twice: a duplicate pair, resolved */
    draft("Achieng", NULL, id, sizeof id);
    draft("Achieng", NULL, id2, sizeof id2);
    free(as("reg", NULL, (const char *[]){ "duplicates", "resolve", id2, id, "--same", "--reason",
                                           "keyed twice from the same page", NULL }));
    /* a draft from a record import: its source line (record_import_lines) */
    {
        char jl[4096];
        json_t *v = json_loads(record_json("Barasa", NULL), 0, NULL);
        char *line = v ? json_dumps(v, JSON_COMPACT) : NULL;
        assert_non_null(line);
        snprintf(jl, sizeof jl, "%s/import.jsonl", root);
        assert_int_equal(file_write(jl, line, strlen(line)), 0);
        free(line);
        json_decref(v);
        free(as("clerk1", NULL, (const char *[]){ "record", "import", "--jsonl", jl, NULL }));
    }
    scan_fixture();
    passport_fixture(evidence);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (getenv("CIVREG_TEST_KEEP"))
        print_message("kept %s\n", root);
    else
        tmp_free(&root);
    return 0;
}

/* ---- editing a copy ---- */

static void copy_data(void)
{
    char cmd[10000];
    assert_true(snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", copy, data, copy) <
                (int)sizeof cmd);
    assert_int_equal(system(cmd), 0);
}

static sqlite3 *open_db(const char *dir)
{
    char path[4200];
    sqlite3 *h = NULL;
    assert_true(snprintf(path, sizeof path, "%s/civreg.db", dir) < (int)sizeof path);
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 10000);
    return h;
}

/* The schema's guards (documents are never deleted, a number never
 * changes, ...) stop mistakes, not someone with the database file: the
 * edits below drop them first, as such a person would. */
static void drop_triggers(sqlite3 *w)
{
    char names[32][64], sql[128];
    size_t n = 0;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(w, "SELECT name FROM sqlite_schema WHERE type = 'trigger'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW && n < 32)
        snprintf(names[n++], 64, "%s", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++) {
        snprintf(sql, sizeof sql, "DROP TRIGGER \"%.63s\"", names[i]);
        assert_int_equal(sqlite3_exec(w, sql, NULL, NULL, NULL), SQLITE_OK);
    }
}

static char *audit(int *status)
{
    struct proc_result r;
    char *out;
    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "audit", "verify", "--data", copy,
                                                            NULL }),
                     0);
    *status = r.status;
    out = r.out;
    r.out = NULL;
    proc_result_free(&r);
    return out;
}

struct column {
    char name[64];
    char type[16];
    int pk;
};

struct table {
    char name[64];
    struct column cols[48];
    size_t n;
};

static void table_read(sqlite3 *h, const char *name, struct table *t)
{
    sqlite3_stmt *st = NULL;
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT name, type, pk FROM pragma_table_info(?1)", -1,
                                        &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW && t->n < 48) {
        struct column *c = &t->cols[t->n++];
        snprintf(c->name, sizeof c->name, "%s", sqlite3_column_text(st, 0));
        snprintf(c->type, sizeof c->type, "%s", sqlite3_column_text(st, 1));
        c->pk = sqlite3_column_int(st, 2);
    }
    sqlite3_finalize(st);
}

/* The primary key columns in key order (rowid when none is declared). */
static size_t pk_cols(const struct table *t, const char *out[8])
{
    size_t n = 0;
    for (int k = 1; k <= 8; k++)
        for (size_t i = 0; i < t->n; i++)
            if (t->cols[i].pk == k)
                out[n++] = t->cols[i].name;
    if (n == 0)
        out[n++] = "rowid";
    return n;
}

/* SQL fragments built from schema names (this is a test of the schema). */
static void append(char *s, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *s, size_t size, const char *fmt, ...)
{
    size_t n = strlen(s);
    va_list ap;
    va_start(ap, fmt);
    assert_true(vsnprintf(s + n, size - n, fmt, ap) < (int)(size - n));
    va_end(ap);
}

/* Choose the row to edit for column COL (NULL: any): the fullest row where
 * COL is set. Its key values go into KEY (text, for WHERE) and its id as
 * audit verify names it (values joined by '/') into ID. */
static bool pick_row(sqlite3 *h, const struct table *t, const char *col, char key[8][512],
                     char *id, size_t id_size)
{
    char sql[8192] = "SELECT ";
    const char *pk[8];
    size_t n = pk_cols(t, pk);
    sqlite3_stmt *st = NULL;
    bool found = false;
    for (size_t i = 0; i < n; i++)
        append(sql, sizeof sql, "%s\"%s\"", i ? ", " : "", pk[i]);
    append(sql, sizeof sql, " FROM \"%s\"", t->name);
    if (col)
        append(sql, sizeof sql, " WHERE \"%s\" IS NOT NULL", col);
    append(sql, sizeof sql, " ORDER BY 0");
    for (size_t i = 0; i < t->n; i++)
        append(sql, sizeof sql, " + (\"%s\" IS NULL)", t->cols[i].name);
    append(sql, sizeof sql, " LIMIT 1");
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    if (sqlite3_step(st) == SQLITE_ROW) {
        found = true;
        id[0] = '\0';
        for (size_t i = 0; i < n; i++) {
            snprintf(key[i], 512, "%s", sqlite3_column_text(st, (int)i));
            append(id, id_size, "%s%s", i ? "/" : "", key[i]);
        }
    }
    sqlite3_finalize(st);
    return found;
}

static void where_key(const struct table *t, char *sql, size_t size)
{
    const char *pk[8];
    size_t n = pk_cols(t, pk);
    append(sql, size, " WHERE ");
    for (size_t i = 0; i < n; i++)
        append(sql, size, "%s\"%s\" = ?%zu", i ? " AND " : "", pk[i], i + 1);
}

/* Change COL of the row keyed by KEY to a value it did not hold: text gets
 * its last character changed (then a suffix, if that collides), numbers +1,
 * blobs their first byte flipped, NULL a value of the column's type. */
static void edit(sqlite3 *h, const struct table *t, const struct column *c, char key[8][512])
{
    const char *pk[8];
    size_t n = pk_cols(t, pk);
    char err[512] = "";
    for (int e = 0; e < 2; e++) {
        char sql[4096] = "", expr[1024];
        const char *x = c->name;
        sqlite3_stmt *st = NULL;
        int rc;
        bool text = strcmp(c->type, "TEXT") == 0 || c->type[0] == '\0';
        if (text && e == 0)
            snprintf(expr, sizeof expr,
                     "CASE WHEN \"%s\" IS NULL THEN 'x' ELSE substr(\"%s\", 1, length(\"%s\") - 1)"
                     " || CASE WHEN substr(\"%s\", -1) = '0' THEN '1' ELSE '0' END END",
                     x, x, x, x);
        else if (text)
            snprintf(expr, sizeof expr, "coalesce(\"%s\", '') || 'Z'", x);
        else if (strcmp(c->type, "INTEGER") == 0)
            snprintf(expr, sizeof expr, "coalesce(\"%s\" + %d, 1)", x, e == 0 ? 1 : 1000003);
        else if (strcmp(c->type, "BLOB") == 0)
            snprintf(expr, sizeof expr, "randomblob(max(coalesce(length(\"%s\"), 0), 1))", x);
        else
            fail_msg("%s.%s: type %s not known to the test", t->name, c->name, c->type);
        append(sql, sizeof sql, "UPDATE \"%s\" SET \"%s\" = %s", t->name, c->name, expr);
        where_key(t, sql, sizeof sql);
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
            fail_msg("%s: %s", sql, sqlite3_errmsg(h));
        for (size_t i = 0; i < n; i++)
            sqlite3_bind_text(st, (int)i + 1, key[i], -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        snprintf(err, sizeof err, "%s", sqlite3_errmsg(h));
        sqlite3_finalize(st);
        if (rc == SQLITE_DONE && sqlite3_changes(h) == 1)
            return;
    }
    fail_msg("%s.%s (%s): no edit took: %s", t->name, c->name, c->type, err);
}

/* The search index is compared by record id, recomputed (not from the
 * log): its lines are "TABLE RECORD_ID COLUMN: stored X, recomputed Y". A
 * needle "a\tb" needs both parts. */
static void expect_named(const char *what, const char *needle)
{
    int status = 0;
    char *out = audit(&status), first[1200];
    const char *tab = strchr(needle, '\t');
    snprintf(first, sizeof first, "%.*s", tab ? (int)(tab - needle) : (int)strlen(needle), needle);
    if (status != 1 || strstr(out, first) == NULL || (tab && strstr(out, tab + 1) == NULL))
        fail_msg("%s: audit verify exit %d, expected 1 naming '%s':\n%s", what, status, needle,
                 out);
    free(out);
}

/* What audit verify says of table T, row ID, column COL (NULL: the row). */
static void needle_for(const struct table *t, const char *id, const char *col, bool pk,
                       char *out, size_t size)
{
    if (strncmp(t->name, "search_", 7) == 0 && col && !pk && strcmp(col, "record_id") != 0)
        snprintf(out, size, "%s \t %s: stored", t->name, col);
    else if (strncmp(t->name, "search_", 7) == 0)
        snprintf(out, size, "search_");
    else if (strcmp(t->name, "events") == 0)
        snprintf(out, size, "event %s", id);
    else if (strcmp(t->name, "tree_heads") == 0 && (col == NULL || pk))
        /* a head gone from its size: the head after it names that size */
        snprintf(out, size, "the head before it (size %s) is missing", id);
    else if (strcmp(t->name, "tree_heads") == 0)
        snprintf(out, size, "tree head %s", id);
    else if (strcmp(t->name, "merkle_nodes") == 0)
        snprintf(out, size, "merkle_nodes: subtree level %.*s", (int)strcspn(id, "/"), id);
    else if (col == NULL || pk)
        snprintf(out, size, "%s %s:", t->name, id);
    else
        snprintf(out, size, "%s %s %s:", t->name, id, col);
}

/* All tables of the schema, FTS shadow tables aside. */
static size_t tables_of(sqlite3 *h, char names[][64], size_t max)
{
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT name FROM sqlite_schema WHERE type = 'table'"
                                           " AND name NOT LIKE 'sqlite_%' ORDER BY name",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW && n < max)
        snprintf(names[n++], 64, "%s", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return n;
}

static void test_clean(void **state)
{
    int status = 0;
    char *out;
    (void)state;
    copy_data();
    out = audit(&status);
    if (status != 0)
        fail_msg("the untouched data directory does not verify:\n%s", out);
    free(out);
}

static void test_every_column(void **state)
{
    char names[128][64];
    size_t n, edits = 0;
    sqlite3 *h = open_db(data);
    (void)state;
    n = tables_of(h, names, 128);
    for (size_t i = 0; i < n; i++) {
        struct table t;
        if (table_excluded(names[i]))
            continue;
        table_read(h, names[i], &t);
        for (size_t c = 0; c < t.n; c++) {
            char key[8][512], id[1024], needle[1200], what[256];
            sqlite3 *w;
            if (column_excluded(t.name, t.cols[c].name))
                continue;
            if (!pick_row(h, &t, t.cols[c].name, key, id, sizeof id) &&
                !pick_row(h, &t, NULL, key, id, sizeof id))
                fail_msg("the fixture has no row of table %s", t.name);
            copy_data();
            w = open_db(copy);
            assert_int_equal(sqlite3_exec(w, "PRAGMA ignore_check_constraints = ON", NULL, NULL,
                                          NULL),
                             SQLITE_OK);
            drop_triggers(w);
            edit(w, &t, &t.cols[c], key);
            sqlite3_close(w);
            needle_for(&t, id, t.cols[c].name, t.cols[c].pk > 0, needle, sizeof needle);
            snprintf(what, sizeof what, "%s.%s edited", t.name, t.cols[c].name);
            expect_named(what, needle);
            edits++;
        }
    }
    sqlite3_close(h);
    print_message("%zu single-column edits, each reported\n", edits);
    assert_true(edits > 100);
}

static void test_every_row_deleted(void **state)
{
    char names[128][64];
    size_t n;
    sqlite3 *h = open_db(data);
    (void)state;
    n = tables_of(h, names, 128);
    for (size_t i = 0; i < n; i++) {
        struct table t;
        char key[8][512], id[1024], needle[1200], what[256], sql[4096] = "";
        const char *pk[8];
        size_t k;
        sqlite3 *w;
        sqlite3_stmt *st = NULL;
        if (table_excluded(names[i]))
            continue;
        table_read(h, names[i], &t);
        if (!pick_row(h, &t, NULL, key, id, sizeof id))
            fail_msg("the fixture has no row of table %s", t.name);
        k = pk_cols(&t, pk);
        copy_data();
        w = open_db(copy);
        drop_triggers(w);
        append(sql, sizeof sql, "DELETE FROM \"%s\"", t.name);
        where_key(&t, sql, sizeof sql);
        assert_int_equal(sqlite3_prepare_v2(w, sql, -1, &st, NULL), SQLITE_OK);
        for (size_t j = 0; j < k; j++)
            sqlite3_bind_text(st, (int)j + 1, key[j], -1, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        assert_int_equal(sqlite3_changes(w), 1);
        sqlite3_finalize(st);
        sqlite3_close(w);
        needle_for(&t, id, NULL, false, needle, sizeof needle);
        if (strcmp(t.name, "events") == 0)
            append(needle, sizeof needle, ": missing");
        snprintf(what, sizeof what, "a row of %s deleted", t.name);
        expect_named(what, needle);
    }
    sqlite3_close(h);
}

static void test_bodies_swapped(void **state)
{
    sqlite3 *w;
    (void)state;
    copy_data();
    w = open_db(copy);
    assert_int_equal(sqlite3_exec(w,
                                  "CREATE TABLE t AS SELECT seq, body FROM events WHERE seq IN (5, 6);"
                                  "UPDATE events SET body = (SELECT body FROM t WHERE t.seq = 11 -"
                                  " events.seq) WHERE seq IN (5, 6); DROP TABLE t;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(w);
    expect_named("bodies of events 5 and 6 swapped", "event 5 (");
    expect_named("bodies of events 5 and 6 swapped", "event 6: the signed body says it is event 5");
}

/* The edit an insider would make: a stolen passport back to valid, so it
 * passes border checks and leaves the alert list. */
static void test_stolen_passport_set_valid(void **state)
{
    sqlite3 *w;
    sqlite3_stmt *st = NULL;
    char needle[200];
    (void)state;
    copy_data();
    w = open_db(copy);
    assert_int_equal(sqlite3_prepare_v2(w, "UPDATE documents SET status = 'valid' WHERE number = ?1"
                                           " AND status = 'stolen'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, stolen, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(w), 1);
    sqlite3_finalize(st);
    sqlite3_close(w);
    snprintf(needle, sizeof needle, "documents %s status: stored 'valid', log 'stolen'", stolen);
    expect_named("a stolen passport set back to valid", needle);
}

CMOCKA_MAIN(setup, teardown, test_clean, test_stolen_passport_set_valid, test_every_column,
            test_every_row_deleted, test_bodies_swapped)
