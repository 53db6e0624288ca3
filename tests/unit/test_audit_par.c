/* `audit verify` with its signature checks in worker threads
 * (registry/audit_par.c) reports exactly what the serial audit reports,
 * forgeries included. The case that matters: the workers guess each event's
 * key from the raw log, the audit decides it from the events whose
 * signatures hold. A forged user.key event announces a key the audit must
 * not accept; events signed with that key must still be reported as
 * invalid, though a worker found them valid under the announced key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/secret.h"
#include "db/datadir.h"
#include "db/db.h"
#include "core/encode.h"
#include "registry/registry.h"
#include "registry/registry_int.h"
#include "registry/search.h"
#include "support/inproc.h"
#include "support/cmocka_main.h"
#include "support/support.h"

static void collect(void *ctx, const char *problem)
{
    json_t *lines = ctx;
    json_array_append_new(lines, json_string(problem));
}

/* The audit's report lines under CIVREG_AUDIT_THREADS=THREADS. */
static json_t *audit_with(struct db *db, const struct datadir *dd, const char *threads,
                          int *problems)
{
    struct registry_audit_stats st;
    struct err err = ERR_INIT;
    json_t *lines = json_array();

    assert_int_equal(setenv("CIVREG_AUDIT_THREADS", threads, 1), 0);
    *problems = registry_audit_verify(db, dd->keys_dir, dd->blobs_dir, NULL, collect, lines, &st,
                                      &err);
    if (*problems < 0)
        fail_msg("audit verify: %s", err_msg(&err));
    assert_int_equal(unsetenv("CIVREG_AUDIT_THREADS"), 0);
    return lines;
}

static size_t count_containing(const json_t *lines, const char *what)
{
    size_t i, n = 0;
    json_t *l;
    json_array_foreach(lines, i, l)
        n += strstr(json_string_value(l), what) != NULL;
    return n;
}

/* A throw-away data directory and its database, one per test; with
 * audit_case_drafts, the record drafted and the admin and clerk signed in
 * (audit_case_close frees them all). */
struct audit_case {
    char *dir;
    char data[4096];
    struct datadir *dd;
    struct db *db;
    json_t *rec;
    struct registry_actor *admin, *clerk;
};

static void audit_case_open(struct audit_case *c, const char *name)
{
    struct err err = ERR_INIT;
    c->rec = NULL;
    c->admin = c->clerk = NULL;
    c->dir = tmp_dir(name);
    assert_non_null(c->dir);
    if (secret_init(&err) != 0)
        fail_msg("%s", err_msg(&err));
    inproc_datadir(c->dir, c->data, sizeof c->data, &c->dd, &c->db);
}

static void audit_case_close(struct audit_case *c)
{
    json_decref(c->rec);
    registry_actor_free(c->admin);
    registry_actor_free(c->clerk);
    inproc_close(c->db, c->dd, &c->dir);
}

/* The passwords of the cases' admin and of their other users */
static const char PW_ADMIN[] = "Lantern-orbit-4417", PW_STAFF[] = "Quiet-harbor-lamp-93";

/* A case NAME with the admin and a clerk signed in, and three drafts of the
 * example record (c->rec) keyed by the clerk. */
static void audit_case_drafts(struct audit_case *c, const char *name)
{
    struct err err = ERR_INIT;

    audit_case_open(c, name);
    c->rec = registry_record_example();
    inproc_user_add(c->db, c->dd->keys_dir, NULL, "admin", ROLE_ADMIN, PW_ADMIN);
    c->admin = inproc_authenticate(c->db, c->dd->keys_dir, "admin", PW_ADMIN);
    inproc_user_add(c->db, c->dd->keys_dir, c->admin, "clerk", ROLE_CLERK, PW_STAFF);
    c->clerk = inproc_authenticate(c->db, c->dd->keys_dir, "clerk", PW_STAFF);
    for (int i = 0; i < 3; i++) {
        char *id = NULL;
        if (registry_record_draft(c->db, c->clerk, c->rec, &id, &err) != 0)
            fail_msg("draft: %s", err_msg(&err));
        free(id);
    }
}

/* Untouched: clean whichever way it runs (serially, two workers). */
static void assert_audit_clean(const struct audit_case *c)
{
    int p1, p2;
    json_t *serial = audit_with(c->db, c->dd, "1", &p1), *par2 = audit_with(c->db, c->dd, "2", &p2);
    assert_int_equal(p1, 0);
    assert_int_equal(p2, 0);
    json_decref(serial);
    json_decref(par2);
}

/* After a forgery: the serial audit reports problems and two or four workers
 * report exactly the same lines. Returns the serial report (the caller checks
 * what it names, then frees it). */
static json_t *assert_audit_same_report(const struct audit_case *c)
{
    int p1, p2, p4;
    json_t *serial = audit_with(c->db, c->dd, "1", &p1), *par2 = audit_with(c->db, c->dd, "2", &p2),
           *par4 = audit_with(c->db, c->dd, "4", &p4);
    assert_true(p1 > 0);
    assert_int_equal(p2, p1);
    assert_int_equal(p4, p1);
    assert_true(json_equal(serial, par2));
    assert_true(json_equal(serial, par4));
    json_decref(par2);
    json_decref(par4);
    return serial;
}

/* The audit of C (serial and with workers, the same report) names the
 * problem formatted from FMT once; with ONLY, and nothing else. */
static void assert_reported(const struct audit_case *c, bool only, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void assert_reported(const struct audit_case *c, bool only, const char *fmt, ...)
{
    json_t *serial = assert_audit_same_report(c);
    char line[256];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (count_containing(serial, line) != 1 || (only && json_array_size(serial) != 1))
        fail_msg("expected %s'%s' in %s", only ? "only " : "", line, json_dumps(serial, 0));
    json_decref(serial);
}

static void test_parallel_audit_same_report(void **state)
{
    static const char pw2[] = "Copper-meadow-tide-58";
    struct err err = ERR_INIT;
    struct audit_case ac;
    json_t *serial;
    (void)state;

    audit_case_drafts(&ac, "audit-par");
    /* a new key for the clerk (user.key, signed by the admin), then drafts
     * signed with it */
    assert_int_equal(registry_user_reset(ac.db, ac.admin, "clerk", pw2, &err), 0);
    registry_actor_free(ac.clerk);
    assert_int_equal(
        registry_authenticate(ac.db, ac.dd->keys_dir, "clerk", pw2, &ac.clerk, &err), 0);
    for (int i = 0; i < 4; i++) {
        char *id = NULL;
        assert_int_equal(registry_record_draft(ac.db, ac.clerk, ac.rec, &id, &err), 0);
        free(id);
    }

    /* untouched: clean whichever way it runs */
    assert_audit_clean(&ac);

    /* forged: the user.key event's signature, one event's, one tree head's */
    assert_int_equal(db_exec(ac.db,
                             "UPDATE events SET signature = zeroblob(64) WHERE type = 'user.key';"
                             "UPDATE events SET signature = zeroblob(64) WHERE seq = 4;"
                             "UPDATE tree_heads SET signature = zeroblob(64) WHERE tree_size = 2;",
                             &err),
                     0);
    serial = assert_audit_same_report(&ac);
    /* the four drafts signed with the key the forged event announced are
     * invalid under the key the log really gave the clerk */
    assert_true(count_containing(serial, "record.draft by clerk): signature invalid") >= 4);
    assert_true(count_containing(serial, "(user.key by admin): signature invalid") == 1);
    assert_true(count_containing(serial, "tree head 2: office signature invalid") == 1);

    json_decref(serial);
    audit_case_close(&ac);
}

/* Every open possible duplicate of C (the example record keyed again)
 * resolved by REG as distinct births. */
static void resolve_open(const struct audit_case *c, const struct registry_actor *reg)
{
    struct err err = ERR_INIT;
    json_t *cands = NULL;

    assert_int_equal(registry_dup_list(c->db, reg, NULL, &cands, &err), 0); /* every open one */
    for (size_t k = 0; k < json_array_size(cands); k++) {
        json_t *d = json_array_get(cands, k);
        if (strcmp(json_string_value(json_object_get(d, "status")), "open") == 0)
            assert_int_equal(
                registry_dup_resolve(c->db, reg, json_string_value(json_object_get(d, "record_id")),
                                     json_string_value(json_object_get(d, "other_id")), false,
                                     "one example record keyed several times", &err),
                0);
    }
    json_decref(cands);
}

/* Verify (by CLERK) and register (by REG) the draft ID of C, every open
 * possible duplicate resolved first. A scan stores at most ten pairs of the
 * example's many identical drafts, so the registration's own scan may still
 * store one no earlier scan kept (which ones depends on the random ids): it
 * refuses, that pair is resolved too and the registration tried again. */
static void verify_register(const struct audit_case *c, const struct registry_actor *clerk,
                            const struct registry_actor *reg, const char *id)
{
    struct err err = ERR_INIT;
    json_t *res = NULL;

    assert_int_equal(registry_record_verify(c->db, clerk, id, c->rec, NULL, &err), 0);
    for (int attempt = 0;; attempt++) {
        resolve_open(c, reg);
        if (registry_record_register(c->db, reg, id, &res, &err) == 0)
            break;
        if (attempt == 12 || strstr(err_msg(&err), "unresolved possible duplicate") == NULL)
            fail_msg("register: %s", err_msg(&err));
        err_clear(&err);
    }
    json_decref(res);
}

/* Registration events carry a link statement signed by the registrar: its
 * check runs in a worker too (AUDIT_PAR_LINK). Same report with and without
 * workers, clean and after a registration's signature is forged. */
static void test_parallel_audit_links(void **state)
{
    struct err err = ERR_INIT;
    struct audit_case ac;
    struct registry_actor *ca = NULL, *cb = NULL, *reg = NULL;
    json_t *serial;
    (void)state;

    audit_case_open(&ac, "audit-par-links");
    ac.rec = registry_record_example();
    inproc_user_add(ac.db, ac.dd->keys_dir, NULL, "admin", ROLE_ADMIN, PW_ADMIN);
    ac.admin = inproc_authenticate(ac.db, ac.dd->keys_dir, "admin", PW_ADMIN);
    inproc_user_add(ac.db, ac.dd->keys_dir, ac.admin, "clerk-a", ROLE_CLERK, PW_STAFF);
    inproc_user_add(ac.db, ac.dd->keys_dir, ac.admin, "clerk-b", ROLE_CLERK, PW_STAFF);
    inproc_user_add(ac.db, ac.dd->keys_dir, ac.admin, "registrar", ROLE_REGISTRAR, PW_STAFF);
    ca = inproc_authenticate(ac.db, ac.dd->keys_dir, "clerk-a", PW_STAFF);
    cb = inproc_authenticate(ac.db, ac.dd->keys_dir, "clerk-b", PW_STAFF);
    reg = inproc_authenticate(ac.db, ac.dd->keys_dir, "registrar", PW_STAFF);
    for (int i = 0; i < 3; i++) {
        char *id = NULL;
        assert_int_equal(registry_record_draft(ac.db, ca, ac.rec, &id, &err), 0);
        verify_register(&ac, cb, reg, id);
        free(id);
    }

    assert_audit_clean(&ac);

    /* a registration's signature forged: not replayed, reported alike */
    assert_int_equal(db_exec(ac.db,
                             "UPDATE events SET signature = zeroblob(64) WHERE seq ="
                             " (SELECT min(seq) FROM events WHERE type = 'record.register')",
                             &err),
                     0);
    serial = assert_audit_same_report(&ac);
    assert_true(count_containing(serial, "(record.register by registrar): signature invalid") == 1);

    json_decref(serial);
    registry_actor_free(ca);
    registry_actor_free(cb);
    registry_actor_free(reg);
    audit_case_close(&ac);
}

/* The search index recomputation runs on its own thread beside the event
 * loop: an edited index row is reported alike with and without workers,
 * after what the event loop and the table comparison report (the order of
 * the serial audit). */
static void test_parallel_audit_search(void **state)
{
    struct err err = ERR_INIT;
    struct audit_case ac;
    json_t *serial;
    size_t i, sig_at = 0, search_at = 0;
    json_t *l;
    (void)state;

    audit_case_drafts(&ac, "audit-par-search");
    assert_audit_clean(&ac);

    assert_int_equal(db_exec(ac.db,
                             "UPDATE search_index SET given = 'FORGED' WHERE rowid ="
                             " (SELECT min(rowid) FROM search_index);"
                             "UPDATE events SET signature = zeroblob(64) WHERE seq ="
                             " (SELECT max(seq) FROM events WHERE type = 'record.draft')",
                             &err),
                     0);
    serial = assert_audit_same_report(&ac);
    json_array_foreach(serial, i, l) {
        if (strstr(json_string_value(l), "(record.draft by clerk): signature invalid"))
            sig_at = i + 1;
        if (strstr(json_string_value(l), "search_index ") &&
            strstr(json_string_value(l), " given: stored 'FORGED'"))
            search_at = i + 1;
    }
    assert_true(sig_at > 0);
    assert_true(search_at > sig_at);

    json_decref(serial);
    audit_case_close(&ac);
}

/* A writer that commits while the search index is being audited (an office
 * audited while it works): the index is compared on the snapshot it was
 * recomputed from. Here a second connection commits a search_index row
 * when the audit's search savepoint is released (traced statement): the
 * comparison must not see it (it did, when it ran after that release). */
struct late_writer {
    struct db *other;
    bool done;
};

static int late_write(unsigned type, void *ctx, void *p, void *x)
{
    struct late_writer *w = ctx;
    struct err err = ERR_INIT;
    (void)p;

    if (type != SQLITE_TRACE_STMT || w->done || x == NULL ||
        strstr((const char *)x, "RELEASE audit_search") == NULL)
        return 0;
    w->done = true;
    if (db_exec(w->other,
                "INSERT INTO search_index(record_id, office, status, given, family, sex, dob,"
                " place, mother, father, given_key, family_key, place_key, mother_key,"
                " father_key) VALUES ('HQ-R-LATE', 'HQ', 'draft', 'Late', 'Writer', 'F',"
                " '2001-01-01', '', '', '', 'late', 'writer', '', '', '')",
                &err) != 0)
        fail_msg("late writer: %s", err_msg(&err));
    return 0;
}

static void test_audit_search_one_snapshot(void **state)
{
    struct err err = ERR_INIT;
    struct audit_case ac;
    struct late_writer w = { NULL, false };
    json_t *lines;
    int problems;
    (void)state;

    audit_case_drafts(&ac, "audit-search-snapshot");
    assert_int_equal(db_open(db_path(ac.db), 0, &w.other, &err), 0);
    sqlite3_trace_v2(db_handle(ac.db), SQLITE_TRACE_STMT, late_write, &w);
    lines = audit_with(ac.db, ac.dd, "1", &problems); /* the search inline, traced */
    sqlite3_trace_v2(db_handle(ac.db), 0, NULL, NULL);
    assert_true(w.done);
    assert_int_equal(count_containing(lines, "HQ-R-LATE"), 0);
    assert_int_equal(problems, 0);
    json_decref(lines);
    /* committed now: the next audit reports it */
    lines = audit_with(ac.db, ac.dd, "1", &problems);
    assert_true(count_containing(lines, "HQ-R-LATE") > 0);
    json_decref(lines);

    db_close(w.other);
    audit_case_close(&ac);
}

/* An audit asked inside an open transaction is refused with a message (it
 * cannot detach its own tables there, and would read uncommitted writes);
 * it leaves the connection as it found it, so the audit after the commit
 * runs and is clean. */
static void test_audit_refused_inside_transaction(void **state)
{
    struct err err = ERR_INIT;
    struct audit_case ac;
    int problems;
    json_t *lines;
    (void)state;

    audit_case_open(&ac, "audit-par-tx");
    inproc_user_add(ac.db, ac.dd->keys_dir, NULL, "admin", ROLE_ADMIN, PW_ADMIN);
    assert_int_equal(db_exec(ac.db, "BEGIN", &err), 0);
    assert_int_equal(registry_audit_verify(ac.db, ac.dd->keys_dir, ac.dd->blobs_dir, NULL, NULL,
                                           NULL, NULL, &err),
                     -1);
    assert_non_null(strstr(err_msg(&err), "open transaction"));
    assert_int_equal(db_exec(ac.db, "COMMIT", &err), 0);
    for (int k = 0; k < 2; k++) {
        lines = audit_with(ac.db, ac.dd, k == 0 ? "1" : "2", &problems);
        assert_int_equal(problems, 0);
        json_decref(lines);
    }
    audit_case_close(&ac);
}

/* ---- tree heads: one civreg.tree_head.v2 per committed transaction ---- */

static long long head_count(struct db *db, const char *where)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM tree_heads %s", where);
    return sqlite_long(db_handle(db), sql);
}

static uint64_t log_size(struct db *db)
{
    struct err err = ERR_INIT;
    uint64_t n = 0;
    assert_int_equal(reg_log_size(db, &n, &err), 0);
    return n;
}

/* Store BODY, signed by A's office key, as the head at SIZE (replacing the
 * row there): what a forger holding the office key could write. */
static void head_put(struct db *db, const struct registry_actor *a, uint64_t size,
                     const struct buf *body)
{
    unsigned char sig[REG_SIG_BYTES], root[32];
    sqlite3_stmt *st = NULL;
    json_t *b = NULL;
    size_t n = 0;
    assert_int_equal(json_parse((const char *)body->data, body->len, &b, NULL), 0);
    assert_int_equal(hex_decode(json_string_value(json_object_get(b, "root_hash")), 64, root,
                                sizeof root, &n, NULL),
                     0);
    reg_sign(a->office_sk, body->data, body->len, sig);
    st = sqlite_prepare_ok(db_handle(db), "INSERT OR REPLACE INTO tree_heads(tree_size, root_hash,"
                                          " office, signed_at, body, signature)"
                                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
    sqlite3_bind_blob(st, 2, root, sizeof root, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->node_office, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, json_string_value(json_object_get(b, "time")), -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, buf_str((struct buf *)body), -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 6, sig, sizeof sig, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    json_decref(b);
}

/* The log's root at SIZE, in hex. */
static void root_at(struct db *db, uint64_t size, char hex[65])
{
    struct reg_merkle_db m;
    struct merkle_source src;
    struct err err = ERR_INIT;
    merkle_hash root;
    reg_merkle_db_source(&m, db, &src);
    assert_int_equal(merkle_root(&src, size, root, &err), 0);
    reg_merkle_db_release(&m);
    hex_encode(root, 32, hex);
}

/* The head at SIZE written anew by C's office key over the log's root
 * there (head_put): a v2 body naming PREVIOUS, or a v1 body when PREVIOUS
 * is HEAD_V1. */
#define HEAD_V1 UINT64_MAX
static void head_sign(const struct audit_case *c, uint64_t size, uint64_t previous)
{
    struct buf body = BUF_INIT(4096);
    struct err err = ERR_INIT;
    char root[65];

    root_at(c->db, size, root);
    if ((previous == HEAD_V1
             ? reg_tree_head_body(c->admin->node_office, size, root, "2026-11-30T00:00:00Z",
                                  &body, &err)
             : reg_tree_head_body_v2(c->admin->node_office, size, previous, root,
                                     "2026-12-06T00:00:00Z", &body, &err)) != 0)
        fail_msg("head body: %s", err_msg(&err));
    head_put(c->db, c->admin, size, &body);
    buf_release(&body);
}

/* The transaction that appends signs one head as it commits; a rolled-back
 * transaction, or one whose appends all went with a rolled-back savepoint,
 * signs none. */
static void test_tree_head_per_transaction(void **state)
{
    struct err err = ERR_INIT;
    struct audit_case ac;
    long long heads;
    uint64_t size;
    char *id = NULL;
    (void)state;

    audit_case_drafts(&ac, "heads-tx");
    heads = head_count(ac.db, "");
    size = log_size(ac.db);
    /* rolled back: no head */
    assert_int_equal(db_tx_begin(ac.db, &err), 0);
    assert_int_equal(registry_record_draft(ac.db, ac.clerk, ac.rec, &id, &err), 0);
    free(id);
    db_tx_rollback(ac.db);
    assert_int_equal(head_count(ac.db, ""), heads);
    assert_int_equal(log_size(ac.db), size);
    /* the appends of a rolled-back savepoint only: committed, no head */
    assert_int_equal(db_tx_begin(ac.db, &err), 0);
    assert_int_equal(db_tx_begin(ac.db, &err), 0);
    assert_int_equal(registry_record_draft(ac.db, ac.clerk, ac.rec, &id, &err), 0);
    free(id);
    db_tx_rollback(ac.db);
    assert_int_equal(db_tx_commit(ac.db, &err), 0);
    assert_int_equal(head_count(ac.db, ""), heads);
    /* three drafts in one transaction: one head over them, after the last */
    assert_int_equal(db_tx_begin(ac.db, &err), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(registry_record_draft(ac.db, ac.clerk, ac.rec, &id, &err), 0);
        free(id);
    }
    assert_int_equal(head_count(ac.db, ""), heads);
    assert_int_equal(db_tx_commit(ac.db, &err), 0);
    assert_int_equal(head_count(ac.db, ""), heads + 1);
    assert_int_equal(log_size(ac.db), size + 3);
    {
        char where[128];
        snprintf(where, sizeof where,
                 "WHERE tree_size = %llu AND json_extract(body, '$.previous_size') = %llu"
                 " AND json_extract(body, '$.type') = 'civreg.tree_head.v2'",
                 (unsigned long long)(size + 3), (unsigned long long)size);
        assert_int_equal(head_count(ac.db, where), 1);
    }
    assert_audit_clean(&ac);
    audit_case_close(&ac);
}

/* The audit walks the heads as a chain: a deleted head, a previous_size
 * changed (and signed again with the office key), a forged signature and
 * events past the last head are each reported, the same by the workers. */
static void test_tree_head_chain(void **state)
{
    struct err err = ERR_INIT;
    struct audit_case ac;
    uint64_t sizes[8];
    size_t n = 0;
    char line[160];
    sqlite3_stmt *st = NULL;
    (void)state;

    audit_case_drafts(&ac, "heads-chain");
    st = sqlite_prepare_ok(db_handle(ac.db), "SELECT tree_size FROM tree_heads ORDER BY tree_size");
    while (sqlite3_step(st) == SQLITE_ROW && n < 8)
        sizes[n++] = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    assert_true(n >= 4);
    assert_int_equal(sizes[n - 1], log_size(ac.db));
    assert_int_equal(db_exec(ac.db, "SAVEPOINT keep", &err), 0);

    /* a deleted head: the next one names it */
    snprintf(line, sizeof line, "DELETE FROM tree_heads WHERE tree_size = %llu",
             (unsigned long long)sizes[1]);
    assert_int_equal(db_exec(ac.db, line, &err), 0);
    assert_int_equal(db_exec(ac.db, "RELEASE keep", &err), 0);
    assert_reported(&ac, false, "tree head %llu: the head before it (size %llu) is missing or "
                                "changed",
                    (unsigned long long)sizes[2], (unsigned long long)sizes[1]);

    /* its previous_size changed and signed again by the office: the chain
     * breaks where it claims a head that is not there */
    head_sign(&ac, sizes[2], sizes[0]);
    head_sign(&ac, sizes[1], sizes[0]);
    /* head sizes[1] is back (previous sizes[0], right); head sizes[2]
     * claims sizes[0] */
    assert_reported(&ac, true, "tree head %llu: the head before it (size %llu) is missing or "
                               "changed",
                    (unsigned long long)sizes[2], (unsigned long long)sizes[0]);
    /* a previous_size edited without the office key: its signature fails */
    snprintf(line, sizeof line,
             "UPDATE tree_heads SET body = json_set(body, '$.previous_size', %llu)"
             " WHERE tree_size = %llu",
             (unsigned long long)sizes[1], (unsigned long long)sizes[2]);
    assert_int_equal(db_exec(ac.db, line, &err), 0);
    assert_reported(&ac, false, "tree head %llu: ", (unsigned long long)sizes[2]);

    /* put back, then a forged signature on a v2 head */
    head_sign(&ac, sizes[2], sizes[1]);
    assert_audit_clean(&ac);
    snprintf(line, sizeof line, "UPDATE tree_heads SET signature = zeroblob(64) WHERE tree_size = %llu",
             (unsigned long long)sizes[2]);
    assert_int_equal(db_exec(ac.db, line, &err), 0);
    assert_reported(&ac, false, "tree head %llu: office signature invalid",
                    (unsigned long long)sizes[2]);
    head_sign(&ac, sizes[2], sizes[1]);

    /* the last head deleted: its events are covered by none */
    snprintf(line, sizeof line, "DELETE FROM tree_heads WHERE tree_size = %llu",
             (unsigned long long)sizes[n - 1]);
    assert_int_equal(db_exec(ac.db, line, &err), 0);
    assert_reported(&ac, false, "events %llu to %llu: not covered by any signed tree head",
                    (unsigned long long)sizes[n - 2], (unsigned long long)(sizes[n - 1] - 1));

    audit_case_close(&ac);
}

/* An older log: a v1 head at every size (written with the v1 body), then
 * transactions of this version: v2 heads naming the last v1 size. It audits
 * clean; a v1 head deleted is caught by the chain too. */
static void test_tree_heads_v1_then_v2(void **state)
{
    struct err err = ERR_INIT;
    struct audit_case ac;
    uint64_t v1;
    char line[160];
    (void)state;

    audit_case_drafts(&ac, "heads-v1-v2");
    v1 = log_size(ac.db);
    assert_int_equal(db_exec(ac.db, "DELETE FROM tree_heads", &err), 0);
    for (uint64_t size = 1; size <= v1; size++)
        head_sign(&ac, size, HEAD_V1);
    assert_int_equal(head_count(ac.db, "WHERE body LIKE '%civreg.tree_head.v1%'"), (long long)v1);
    for (int i = 0; i < 2; i++) {
        char *id = NULL;
        assert_int_equal(registry_record_draft(ac.db, ac.clerk, ac.rec, &id, &err), 0);
        free(id);
    }
    snprintf(line, sizeof line, "WHERE json_extract(body, '$.previous_size') = %llu",
             (unsigned long long)v1);
    assert_int_equal(head_count(ac.db, line), 1);
    assert_int_equal(head_count(ac.db, "WHERE body LIKE '%civreg.tree_head.v2%'"), 2);
    assert_audit_clean(&ac);

    /* a v1 head deleted: the v1 head after it claims it */
    assert_int_equal(db_exec(ac.db, "DELETE FROM tree_heads WHERE tree_size = 2", &err), 0);
    assert_reported(&ac, false, "tree head 3: the head before it (size 2) is missing or changed");

    audit_case_close(&ac);
}

/* The first column of the first row of the SQL PRE 'ID' POST (PRE alone
 * when ID is NULL) on C's database, as text (NULL: SQL NULL), into OUT. */
static const char *query_text(const struct audit_case *c, const char *pre, const char *id,
                              const char *post, char *out, size_t size)
{
    sqlite3_stmt *st = NULL;
    char q[512];
    const char *r = NULL;

    if (id)
        (void)snprintf(q, sizeof q, "%s'%s'%s", pre, id, post);
    else
        (void)snprintf(q, sizeof q, "%s", pre);
    if (sqlite3_prepare_v2(db_handle(c->db), q, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", q, sqlite3_errmsg(db_handle(c->db)));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
        (void)snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
        r = out;
    }
    sqlite3_finalize(st);
    return r;
}

/* The audit of C (serial, two and four workers alike) reports exactly the
 * N lines WANT, in that order. */
static void assert_lines(const struct audit_case *c, const char *const *want, size_t n)
{
    json_t *serial = assert_audit_same_report(c);
    bool same = json_array_size(serial) == n;

    for (size_t i = 0; same && i < n; i++)
        same = strcmp(json_string_value(json_array_get(serial, i)), want[i]) == 0;
    if (!same) {
        char *got = json_dumps(serial, JSON_INDENT(1));
        for (size_t i = 0; i < n; i++)
            print_message("wanted: %s\n", want[i]);
        fail_msg("the audit reported %s", got);
    }
    json_decref(serial);
}

/* A case NAME (audit_case_drafts) with twelve drafts, clean. */
static void audit_case_twelve(struct audit_case *c, const char *name)
{
    struct err err = ERR_INIT;

    audit_case_drafts(c, name);
    for (int i = 0; i < 9; i++) {
        char *rid = NULL;
        if (registry_record_draft(c->db, c->clerk, c->rec, &rid, &err) != 0)
            fail_msg("draft: %s", err_msg(&err));
        free(rid);
    }
    assert_audit_clean(c);
}

/* The ten lines the SQL Q gives (its first column) into LINES, pointed to
 * by WANT. */
static void ten_lines(const struct audit_case *c, const char *q, char lines[][600],
                      const char **want)
{
    sqlite3_stmt *st = NULL;
    size_t n = 0;

    assert_int_equal(sqlite3_prepare_v2(db_handle(c->db), q, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW && n < 10) {
        (void)snprintf(lines[n], sizeof lines[n], "%s", (const char *)sqlite3_column_text(st, 0));
        want[n] = lines[n];
        n++;
    }
    sqlite3_finalize(st);
    assert_int_equal(n, 10);
}

/* More than ten rows differ: the ten lines query Q gives (run before the
 * tampering TAMPER, NULL when already done), then the line COUNT, as the
 * whole report. */
static void ten_and_count(const struct audit_case *c, const char *q, const char *tamper,
                          const char *count)
{
    struct err err = ERR_INIT;
    char lines[11][600];
    const char *want[11];

    ten_lines(c, q, lines, want);
    if (tamper)
        assert_int_equal(db_exec(c->db, tamper, &err), 0);
    (void)snprintf(lines[10], sizeof lines[10], "%s", count);
    want[10] = lines[10];
    assert_lines(c, want, 11);
}

/* The stored search rows of one record differ from what its current version
 * gives in one column each: search_index, search_fts, search_tri, a name
 * key gone, one added. Each is reported alone, in the audit's line format
 * ("TABLE RECORD_ID COLUMN: stored X, recomputed Y"), and the report is
 * clean once the value is put back; more than ten records differing in one
 * column are ten lines and a count. */
static void test_audit_search_one_column(void **state)
{
    struct err err = ERR_INIT;
    struct audit_case ac;
    char id[64], rowid[32], family[256], names_ph[512], tri[512], key[32], dob[32], sql[2048];
    char l[1][1400];
    const char *want[12];
    (void)state;

    audit_case_twelve(&ac, "audit-search-column");
    assert_non_null(query_text(&ac, "SELECT record_id FROM search_index ORDER BY record_id"
                                    " LIMIT 1 OFFSET 1", NULL, "", id, sizeof id));
    assert_non_null(query_text(&ac, "SELECT rowid FROM search_index WHERE record_id = ", id, "",
                               rowid, sizeof rowid));
    assert_non_null(query_text(&ac, "SELECT family FROM search_index WHERE rowid = ", rowid, "",
                               family, sizeof family));
    assert_non_null(query_text(&ac, "SELECT names_ph FROM search_fts WHERE rowid = ", rowid, "",
                               names_ph, sizeof names_ph));
    assert_non_null(query_text(&ac, "SELECT names FROM search_tri WHERE rowid = ", rowid, "", tri,
                               sizeof tri));
    assert_non_null(query_text(&ac, "SELECT key FROM search_name_keys WHERE rec = ", rowid,
                               " ORDER BY key LIMIT 1", key, sizeof key));
    assert_non_null(query_text(&ac, "SELECT dob FROM search_name_keys WHERE rec = ", rowid,
                               " ORDER BY key LIMIT 1", dob, sizeof dob));

    /* search_index: a value changed, then a number where the record has none */
    (void)snprintf(sql, sizeof sql, "UPDATE search_index SET family = 'Forged' WHERE rowid = %s",
                   rowid);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    (void)snprintf(l[0], sizeof l[0], "search_index %s family: stored 'Forged', recomputed '%s'",
                   id, family);
    want[0] = l[0];
    assert_lines(&ac, want, 1);
    (void)snprintf(sql, sizeof sql,
                   "UPDATE search_index SET family = '%s', regno = 'HQ/2026/1' WHERE rowid = %s",
                   family, rowid);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    (void)snprintf(l[0], sizeof l[0],
                   "search_index %s regno: stored 'HQ/2026/1', recomputed NULL", id);
    assert_lines(&ac, want, 1);
    (void)snprintf(sql, sizeof sql, "UPDATE search_index SET regno = NULL WHERE rowid = %s",
                   rowid);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    assert_audit_clean(&ac);

    /* search_fts and search_tri: one column of the record's row */
    (void)snprintf(sql, sizeof sql, "UPDATE search_fts SET names_ph = 'ZZZ' WHERE rowid = %s",
                   rowid);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    (void)snprintf(l[0], sizeof l[0], "search_fts %s names_ph: stored 'ZZZ', recomputed '%s'", id,
                   names_ph);
    assert_lines(&ac, want, 1);
    (void)snprintf(sql, sizeof sql,
                   "UPDATE search_fts SET names_ph = '%s' WHERE rowid = %s;"
                   "UPDATE search_tri SET names = 'ZZZ' WHERE rowid = %s",
                   names_ph, rowid, rowid);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    (void)snprintf(l[0], sizeof l[0], "search_tri %s names: stored 'ZZZ', recomputed '%s'", id,
                   tri);
    assert_lines(&ac, want, 1);
    (void)snprintf(sql, sizeof sql, "UPDATE search_tri SET names = '%s' WHERE rowid = %s", tri,
                   rowid);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    assert_audit_clean(&ac);

    /* search_name_keys: a derived key gone, then one not derived */
    (void)snprintf(sql, sizeof sql, "DELETE FROM search_name_keys WHERE rec = %s AND key = '%s'",
                   rowid, key);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    (void)snprintf(l[0], sizeof l[0], "search_name_keys %s: name key %s %s missing", id, key, dob);
    assert_lines(&ac, want, 1);
    (void)snprintf(sql, sizeof sql,
                   "INSERT INTO search_name_keys(key, dob, rec) VALUES ('%s', %s, %s),"
                   " ('QQQ', %s, %s)",
                   key, dob, rowid, dob, rowid);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    (void)snprintf(l[0], sizeof l[0],
                   "search_name_keys %s: name key QQQ %s not derived from the record", id, dob);
    assert_lines(&ac, want, 1);
    (void)snprintf(sql, sizeof sql, "DELETE FROM search_name_keys WHERE key = 'QQQ'");
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    assert_audit_clean(&ac);

    /* twelve records differ in one column: the first ten by record id, then
     * how many more */
    assert_int_equal(db_exec(ac.db, "UPDATE search_index SET sex = 'X'", &err), 0);
    (void)snprintf(sql, sizeof sql,
                   "SELECT 'search_index ' || record_id || ' sex: stored ''X'', recomputed"
                   " ''%s''' FROM search_index ORDER BY record_id LIMIT 10",
                   json_string_value(json_object_get(json_object_get(ac.rec, "child"), "sex")));
    ten_and_count(&ac, sql, NULL, "search_index sex: 2 more rows differ from the recomputed index");

    audit_case_close(&ac);
}

/* The stored event_objects rows, checked as the events are read: one row
 * deleted, one changed, one naming an event the log does not hold, each
 * reported alone as the table comparison reported it ("event_objects
 * KIND/ID/SEQ: ..."), clean once put back; twelve deleted are the first ten
 * by object id (not by seq: the ids are random) and a count. */
static void test_audit_event_objects_rows(void **state)
{
    struct err err = ERR_INIT;
    struct audit_case ac;
    char id[64], seq[32], sql[1024], all[11][600];
    const char *want[11];
    (void)state;

    audit_case_twelve(&ac, "audit-event-objects");
    assert_non_null(query_text(&ac, "SELECT object_id FROM event_objects WHERE kind = 'record'"
                                    " ORDER BY seq LIMIT 1 OFFSET 4", NULL, "", id, sizeof id));
    assert_non_null(query_text(&ac, "SELECT seq FROM event_objects WHERE kind = 'record' AND"
                                    " object_id = ", id, "", seq, sizeof seq));

    /* deleted */
    (void)snprintf(sql, sizeof sql, "DELETE FROM event_objects WHERE object_id = '%s'", id);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    (void)snprintf(all[0], sizeof all[0],
                   "event_objects record/%s/%s: row missing, the log made it (deleted?)", id, seq);
    want[0] = all[0];
    assert_lines(&ac, want, 1);
    /* changed: the stored row is not in the log, the logged one missing */
    (void)snprintf(sql, sizeof sql,
                   "INSERT INTO event_objects(kind, object_id, seq) VALUES ('record', '%s', %s)",
                   id, seq);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    assert_audit_clean(&ac);
    (void)snprintf(sql, sizeof sql,
                   "UPDATE event_objects SET object_id = 'HQ-R-0' WHERE object_id = '%s'", id);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    (void)snprintf(all[0], sizeof all[0],
                   "event_objects record/HQ-R-0/%s: row not in the log (no signed event made it)",
                   seq);
    (void)snprintf(all[1], sizeof all[1],
                   "event_objects record/%s/%s: row missing, the log made it (deleted?)", id, seq);
    want[1] = all[1];
    assert_lines(&ac, want, 2);
    (void)snprintf(sql, sizeof sql,
                   "UPDATE event_objects SET object_id = '%s' WHERE object_id = 'HQ-R-0'", id);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    assert_audit_clean(&ac);
    /* a row naming the record in an event that does not name it */
    (void)snprintf(sql, sizeof sql,
                   "INSERT INTO event_objects(kind, object_id, seq) VALUES ('record', '%s', 1)",
                   id);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    (void)snprintf(all[0], sizeof all[0],
                   "event_objects record/%s/1: row not in the log (no signed event made it)",
                   id);
    assert_lines(&ac, want, 1);
    assert_int_equal(
        db_exec(ac.db, "DELETE FROM event_objects WHERE seq = 1 AND kind = 'record'", &err), 0);
    assert_audit_clean(&ac);

    /* twelve deleted: the first ten by (kind, object id, seq), then a count */
    ten_and_count(&ac,
                  "SELECT 'event_objects record/' || object_id || '/' || seq || ': row missing,"
                  " the log made it (deleted?)' FROM event_objects WHERE kind = 'record'"
                  " ORDER BY object_id LIMIT 10",
                  "DELETE FROM event_objects WHERE kind = 'record'",
                  "event_objects: 2 more rows missing");

    audit_case_close(&ac);
}

/* The stored record_versions rows, checked against the log's as the events
 * are read: one row's column changed, the row moved to the end of the
 * table (same values, a later rowid: clean), a version no event made, each
 * reported as the table comparison reported it
 * ("record_versions ID/VERSION ..."), clean once put back; twelve rows
 * differing in one column are the first ten by record id and a count. */
static void test_audit_record_versions_rows(void **state)
{
    struct err err = ERR_INIT;
    struct audit_case ac;
    char id[64], keyed_at[128], sql[1024], all[11][600];
    const char *want[11];
    (void)state;

    audit_case_twelve(&ac, "audit-record-versions");
    assert_non_null(query_text(&ac, "SELECT record_id FROM record_versions ORDER BY rowid"
                                    " LIMIT 1 OFFSET 4", NULL, "", id, sizeof id));
    assert_non_null(query_text(&ac, "SELECT keyed_at FROM record_versions WHERE record_id = ", id,
                               "", keyed_at, sizeof keyed_at));

    /* one column changed */
    (void)snprintf(sql, sizeof sql,
                   "UPDATE record_versions SET keyed_at = 'forged' WHERE record_id = '%s'", id);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    (void)snprintf(all[0], sizeof all[0],
                   "record_versions %s/1 keyed_at: stored 'forged', log '%s'", id, keyed_at);
    want[0] = all[0];
    assert_lines(&ac, want, 1);
    (void)snprintf(sql, sizeof sql,
                   "UPDATE record_versions SET keyed_at = '%s' WHERE record_id = '%s'", keyed_at,
                   id);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    assert_audit_clean(&ac);

    /* the same row at the end of the table: the rows after it no longer
     * follow in rowid order, the comparison by key still finds them all */
    (void)snprintf(sql, sizeof sql,
                   "CREATE TEMP TABLE moved AS SELECT * FROM record_versions WHERE record_id ="
                   " '%s'; DELETE FROM record_versions WHERE record_id = '%s';"
                   " INSERT INTO record_versions SELECT * FROM moved; DROP TABLE moved",
                   id, id);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    assert_audit_clean(&ac);

    /* a version no event made */
    (void)snprintf(sql, sizeof sql,
                   "CREATE TEMP TABLE extra AS SELECT * FROM record_versions WHERE record_id ="
                   " '%s'; UPDATE extra SET version = 2;"
                   " INSERT INTO record_versions SELECT * FROM extra; DROP TABLE extra",
                   id);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    (void)snprintf(all[0], sizeof all[0],
                   "record_versions %s/2: row not in the log (no signed event made it)", id);
    assert_lines(&ac, want, 1);
    (void)snprintf(sql, sizeof sql,
                   "DELETE FROM record_versions WHERE record_id = '%s' AND version = 2", id);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    assert_audit_clean(&ac);

    /* twelve rows differ in one column: the first ten by record id, a count */
    ten_and_count(&ac,
                  "SELECT 'record_versions ' || record_id || '/1 keyed_at: stored ''forged'', log"
                  " ''' || keyed_at || '''' FROM record_versions ORDER BY record_id LIMIT 10",
                  "UPDATE record_versions SET keyed_at = 'forged'",
                  "record_versions keyed_at: 2 more rows differ from the log");

    audit_case_close(&ac);
}

/* The stored birth_records rows, which the draft, verify and register
 * events each make in part (merged by record before they are checked): a
 * column only the registration puts changed, a column a draft leaves NULL
 * set, a row moved to the end of the table (clean), a correction of a
 * registered record; each reported as the table comparison reported it,
 * clean once put back; twelve rows differing in one column are the first
 * ten by record id and a count. */
static void test_audit_birth_records_rows(void **state)
{
    struct err err = ERR_INIT;
    struct audit_case ac;
    struct registry_actor *cb = NULL, *reg = NULL;
    char id[64], draft[64], at[128], sql[1024], all[11][600];
    const char *want[11];
    json_t *fixed;
    int version = 0;
    (void)state;

    audit_case_twelve(&ac, "audit-birth-records");
    inproc_user_add(ac.db, ac.dd->keys_dir, ac.admin, "clerk-b", ROLE_CLERK, PW_STAFF);
    inproc_user_add(ac.db, ac.dd->keys_dir, ac.admin, "registrar", ROLE_REGISTRAR, PW_STAFF);
    cb = inproc_authenticate(ac.db, ac.dd->keys_dir, "clerk-b", PW_STAFF);
    reg = inproc_authenticate(ac.db, ac.dd->keys_dir, "registrar", PW_STAFF);
    assert_non_null(query_text(&ac, "SELECT id FROM birth_records ORDER BY rowid LIMIT 1 OFFSET 4",
                               NULL, "", id, sizeof id));
    assert_non_null(query_text(&ac, "SELECT id FROM birth_records ORDER BY rowid LIMIT 1 OFFSET 7",
                               NULL, "", draft, sizeof draft));
    verify_register(&ac, cb, reg, id);
    assert_audit_clean(&ac);

    /* a column only the registration puts */
    (void)snprintf(sql, sizeof sql,
                   "UPDATE birth_records SET registered_by = 'forged' WHERE id = '%s'", id);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    (void)snprintf(all[0], sizeof all[0],
                   "birth_records %s registered_by: stored 'forged', log 'registrar'", id);
    want[0] = all[0];
    assert_lines(&ac, want, 1);
    (void)snprintf(sql, sizeof sql,
                   "UPDATE birth_records SET registered_by = 'registrar' WHERE id = '%s'", id);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    assert_audit_clean(&ac);

    /* a column the draft leaves NULL */
    (void)snprintf(sql, sizeof sql,
                   "UPDATE birth_records SET verified_by = 'clerk-b' WHERE id = '%s'", draft);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    (void)snprintf(all[0], sizeof all[0],
                   "birth_records %s verified_by: stored 'clerk-b', log NULL", draft);
    assert_lines(&ac, want, 1);
    (void)snprintf(sql, sizeof sql,
                   "UPDATE birth_records SET verified_by = NULL WHERE id = '%s'", draft);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    assert_audit_clean(&ac);

    /* the registered row at the end of the table (a later rowid) */
    (void)snprintf(sql, sizeof sql,
                   "PRAGMA foreign_keys = OFF; CREATE TEMP TABLE moved AS SELECT * FROM"
                   " birth_records WHERE id = '%s'; DELETE FROM birth_records WHERE id = '%s';"
                   " INSERT INTO birth_records SELECT * FROM moved; DROP TABLE moved;"
                   " PRAGMA foreign_keys = ON",
                   id, id);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    assert_audit_clean(&ac);

    /* corrected after its registration: the registration's columns kept
     * (the correction puts the version and time only) */
    fixed = json_deep_copy(ac.rec);
    assert_int_equal(json_object_set_new(json_object_get(fixed, "child"), "given_names",
                                         json_string("Amelie Wanjiru")),
                     0);
    if (registry_record_correct(ac.db, reg, id, fixed, "a corrected spelling", NULL, &version,
                                &err) != 0)
        fail_msg("correct: %s", err_msg(&err));
    json_decref(fixed);
    assert_int_equal(version, 2);
    assert_audit_clean(&ac);
    assert_non_null(query_text(&ac, "SELECT registered_at FROM birth_records WHERE id = ", id, "",
                               at, sizeof at));
    (void)snprintf(sql, sizeof sql,
                   "UPDATE birth_records SET registered_at = 'forged' WHERE id = '%s'", id);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    (void)snprintf(all[0], sizeof all[0],
                   "birth_records %s registered_at: stored 'forged', log '%s'", id, at);
    assert_lines(&ac, want, 1);
    (void)snprintf(sql, sizeof sql,
                   "UPDATE birth_records SET registered_at = '%s' WHERE id = '%s'", at, id);
    assert_int_equal(db_exec(ac.db, sql, &err), 0);
    assert_audit_clean(&ac);

    /* twelve rows differ in one column: the first ten by record id, a count */
    ten_and_count(&ac,
                  "SELECT 'birth_records ' || id || ' updated_at: stored ''forged'', log ''' ||"
                  " updated_at || '''' FROM birth_records ORDER BY id LIMIT 10",
                  "UPDATE birth_records SET updated_at = 'forged'",
                  "birth_records updated_at: 2 more rows differ from the log");

    registry_actor_free(cb);
    registry_actor_free(reg);
    audit_case_close(&ac);
}

/* The events' worker hashes each event's leaf beside its signature and the
 * audit takes that hash when the worker's copy is the event it reads: a
 * stored leaf hash changed (the event itself intact) is reported alike with
 * and without workers, once, at its event; with the event's signature
 * forged too (the worker's verdict false, its copy the same bytes) both
 * are reported. */
static void test_parallel_audit_leaf_hash(void **state)
{
    struct err err = ERR_INIT;
    struct audit_case ac;
    (void)state;

    audit_case_drafts(&ac, "audit-par-leaf");
    assert_audit_clean(&ac);
    assert_int_equal(db_exec(ac.db, "UPDATE events SET leaf_hash = zeroblob(32) WHERE seq = 4",
                             &err),
                     0);
    assert_reported(&ac, false, "event 4: stored leaf hash does not match the event");
    assert_int_equal(db_exec(ac.db, "UPDATE events SET signature = zeroblob(64) WHERE seq = 4",
                             &err),
                     0);
    assert_reported(&ac, false, "event 4: stored leaf hash does not match the event");
    assert_reported(&ac, false, "event 4 (record.draft by clerk): signature invalid");
    audit_case_close(&ac);
}

/* A case NAME with N more drafts (one event each) whose events FORGED[0..NF)
 * and the last get a forged signature: the report names each of them once
 * and no other signature, the same serially and with 2 and 4 workers. */
static void assert_forged_drafts_reported(const char *name, size_t n, const long *forged,
                                          size_t nf)
{
    struct err err = ERR_INIT, *errs = calloc(n, sizeof *errs);
    struct audit_case ac;
    json_t **recs = calloc(n, sizeof *recs), *serial;
    char **ids = calloc(n, sizeof *ids), sql[256];
    sqlite3_stmt *st;
    long last;

    assert_non_null(errs);
    assert_non_null(recs);
    assert_non_null(ids);
    audit_case_drafts(&ac, name);
    for (size_t i = 0; i < n; i++)
        recs[i] = ac.rec;
    if (registry_record_draft_batch(ac.db, ac.clerk, recs, n, ids, errs, &err) != (int)n)
        fail_msg("draft batch: %s", err_msg(&err));
    assert_audit_clean(&ac);

    st = sqlite_prepare_ok(db_handle(ac.db), "SELECT max(seq) FROM events");
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    last = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    assert_true(last > forged[nf - 1]);
    for (size_t i = 0; i <= nf; i++) {
        (void)snprintf(sql, sizeof sql, "UPDATE events SET signature = zeroblob(64) WHERE seq = %ld",
                       i < nf ? forged[i] : last);
        assert_int_equal(db_exec(ac.db, sql, &err), 0);
    }
    serial = assert_audit_same_report(&ac);
    for (size_t i = 0; i <= nf; i++) {
        (void)snprintf(sql, sizeof sql, "event %ld (record.draft by clerk): signature invalid",
                       i < nf ? forged[i] : last);
        if (count_containing(serial, sql) != 1)
            fail_msg("expected '%s' once in %s", sql, json_dumps(serial, 0));
    }
    assert_int_equal(count_containing(serial, "signature invalid"), nf + 1);

    for (size_t i = 0; i < n; i++) {
        free(ids[i]);
        err_clear(&errs[i]);
    }
    free(ids);
    free(errs);
    free(recs);
    json_decref(serial);
    audit_case_close(&ac);
}

/* A log longer than the window a worker may run ahead of the audit
 * (AUDIT_PAR_WINDOW, 4,096 entries): the workers stop at its end and go on
 * when the audit has moved on, and the audit sleeps until a worker is
 * past the entry it asks about; forged signatures before, at and past the
 * window's end, the last event's included, are each reported once, and the
 * report is the same serially and with 2 and 4 workers. A wake-up lost
 * between them would hang here. */
static void test_parallel_audit_past_window(void **state)
{
    static const long forged[] = { 7, 2100, 4096, 4097, 4150 };
    (void)state;

    assert_forged_drafts_reported("audit-par-window", 4200, forged,
                                  sizeof forged / sizeof forged[0]);
}

/* The workers verify their signatures in batches of ED_BATCH_MAX (64) and
 * publish a batch's verdicts at once: forged signatures in the middle of a
 * full batch, two side by side, at a batch's last and the next one's first
 * entry (with one worker a kind its batches are events 0-63, 64-127, ...;
 * with two, every other event) and in the last, partial batch (the last
 * event, about 305) are each reported once, at their own event, and no
 * valid one beside them. */
static void test_parallel_audit_batches(void **state)
{
    static const long forged[] = { 33, 34, 63, 64, 100, 127, 128, 250 };
    (void)state;

    assert_forged_drafts_reported("audit-par-batches", 300, forged,
                                  sizeof forged / sizeof forged[0]);
}

CMOCKA_MAIN(NULL, NULL, test_parallel_audit_same_report, test_parallel_audit_links,
            test_parallel_audit_past_window, test_parallel_audit_batches,
            test_parallel_audit_leaf_hash,
            test_parallel_audit_search, test_audit_search_one_snapshot,
            test_audit_search_one_column, test_audit_event_objects_rows,
            test_audit_record_versions_rows, test_audit_birth_records_rows,
            test_audit_refused_inside_transaction, test_tree_head_per_transaction,
            test_tree_head_chain, test_tree_heads_v1_then_v2)
