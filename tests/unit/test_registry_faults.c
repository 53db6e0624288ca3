/* registry/ under injected faults: a read that fails inside the four-eyes
 * check must fail the verification (not waive the rule), and a witness file
 * that cannot be written must not leak its descriptor in a long-running
 * server. Faults are injected from outside the code under test: a SQLite
 * progress handler interrupts one chosen statement, a VFS shim under the
 * database answers SQLITE_BUSY to the page reads of one chosen statement
 * (what the operating system's lock or another process's recovery gives a
 * reader), and RLIMIT_FSIZE makes write(2) come up short. */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/encode.h"
#include "core/secret.h"
#include "db/datadir.h"
#include "db/db.h"
#include "registry/registry.h"
#include "registry/draft_prep.h"
#include "registry/registry_int.h"
#include "registry/search_int.h"
#include "support/inproc.h"
#include "support/cmocka_main.h"
#include "support/support.h"

static char *dir;
static struct datadir *dd;
static struct db *db;

/* ---- a VFS shim: SQLITE_BUSY for the reads of one statement ---- */

static sqlite3_vfs *real_vfs;
static const char *busy_sql; /* reads made while a statement with this SQL runs get BUSY */
static int busy_given;

struct shim_file {
    sqlite3_file base;
    sqlite3_file *real; /* follows this struct in the same allocation */
};
#define REAL(f) (((struct shim_file *)(f))->real)

/* Whether a running statement of the database's connection matches busy_sql. */
static bool busy_now(void)
{
    sqlite3 *h = db ? db_handle(db) : NULL;
    if (busy_sql == NULL || h == NULL)
        return false;
    for (sqlite3_stmt *s = sqlite3_next_stmt(h, NULL); s; s = sqlite3_next_stmt(h, s)) {
        const char *sql = sqlite3_sql(s);
        if (sqlite3_stmt_busy(s) && sql && strstr(sql, busy_sql))
            return true;
    }
    return false;
}

static int shim_close(sqlite3_file *f) { return REAL(f)->pMethods->xClose(REAL(f)); }
static int shim_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    if (busy_now()) {
        busy_given++;
        return SQLITE_BUSY;
    }
    return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}
static int shim_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}
static int shim_truncate(sqlite3_file *f, sqlite3_int64 n)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), n);
}
static int shim_sync(sqlite3_file *f, int fl) { return REAL(f)->pMethods->xSync(REAL(f), fl); }
static int shim_size(sqlite3_file *f, sqlite3_int64 *n)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), n);
}
static int shim_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int shim_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int shim_reserved(sqlite3_file *f, int *r)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), r);
}
static int shim_fcntl(sqlite3_file *f, int op, void *a)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, a);
}
static int shim_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int shim_dev(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int shim_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}
static int shim_shm_lock(sqlite3_file *f, int off, int n, int fl)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, fl);
}
static void shim_shm_barrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int shim_shm_unmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
/* No memory map: every page read goes through xRead. */
static int shim_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
    (void)f, (void)off, (void)n;
    *pp = NULL;
    return SQLITE_OK;
}
static int shim_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    (void)f, (void)off, (void)p;
    return SQLITE_OK;
}

static const sqlite3_io_methods shim_io = {
    3, shim_close, shim_read, shim_write, shim_truncate, shim_sync, shim_size, shim_lock,
    shim_unlock, shim_reserved, shim_fcntl, shim_sector, shim_dev, shim_shm_map, shim_shm_lock,
    shim_shm_barrier, shim_shm_unmap, shim_fetch, shim_unfetch,
};

static int shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    struct shim_file *s = (struct shim_file *)f;
    int rc;
    (void)vfs;
    s->real = (sqlite3_file *)(s + 1);
    rc = real_vfs->xOpen(real_vfs, name, s->real, flags, out);
    s->base.pMethods = rc == SQLITE_OK && s->real->pMethods ? &shim_io : NULL;
    return rc;
}

static sqlite3_vfs shim_vfs;

static void shim_install(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    assert_non_null(real_vfs);
    shim_vfs = *real_vfs;
    shim_vfs.zName = "civreg-test-busy";
    shim_vfs.szOsFile = (int)sizeof(struct shim_file) + real_vfs->szOsFile;
    shim_vfs.xOpen = shim_open;
    assert_int_equal(sqlite3_vfs_register(&shim_vfs, 1), SQLITE_OK);
}

static void add_user(struct registry_actor *admin, const char *name, unsigned roles,
                     const char *pw)
{
    inproc_user_add(db, dd->keys_dir, admin, name, roles, pw);
}

static int setup(void **state)
{
    struct registry_actor *admin;
    char path[4096];
    (void)state;

    shim_install(); /* the default VFS from here: the database opens through it */
    admin = inproc_first_admin("registry-faults", &dir, path, sizeof path, &dd, &db,
                               "nimda-tundra-ferns-61");
    add_user(admin, "clerk-a", ROLE_CLERK, "a-krelc-tundra-ferns-61");
    add_user(admin, "clerk-b", ROLE_CLERK, "b-krelc-tundra-ferns-61");
    registry_actor_free(admin);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    inproc_close(db, dd, &dir);
    return 0;
}

static struct registry_actor *login(const char *user, const char *pw)
{
    return inproc_authenticate(db, dd->keys_dir, user, pw);
}

/* Progress handler: interrupt any statement whose SQL contains the string
 * in CTX while it runs (sqlite3_step then returns SQLITE_INTERRUPT, as it
 * would return SQLITE_BUSY or SQLITE_IOERR on a real fault). */
static int interrupted;
static int interrupt_matching(void *ctx)
{
    sqlite3 *h = db_handle(db);
    for (sqlite3_stmt *s = sqlite3_next_stmt(h, NULL); s; s = sqlite3_next_stmt(h, s)) {
        const char *sql = sqlite3_sql(s);
        if (sqlite3_stmt_busy(s) && sql && strstr(sql, ctx)) {
            interrupted++;
            return 1;
        }
    }
    return 0;
}

static const char *record_status(const char *id)
{
    static char status[32];
    sqlite3_stmt *st = sqlite_prepare_ok(db_handle(db),
                                         "SELECT status FROM birth_records WHERE id = ?1");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(status, sizeof status, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return status;
}

/* After the fault: clerk A (who keyed ID) is refused by the four-eyes rule
 * itself, then clerk B verifies it. Frees ID, REC, A and B. */
static void four_eyes_then_second_clerk(struct registry_actor *a, struct registry_actor *b,
                                        char *id, json_t *rec)
{
    struct err err = ERR_INIT;

    assert_int_not_equal(registry_record_verify(db, a, id, rec, NULL, &err), 0);
    assert_non_null(strstr(err_msg(&err), "may not verify it"));
    assert_int_equal(registry_record_verify(db, b, id, rec, NULL, &err), 0);
    assert_string_equal(record_status(id), "verified");
    free(id);
    json_decref(rec);
    registry_actor_free(a);
    registry_actor_free(b);
}

/* Clerks A and B signed in, and the example record *REC drafted by A as *ID */
static void clerk_a_drafts(struct registry_actor **a, struct registry_actor **b, json_t **rec,
                           char **id)
{
    struct err err = ERR_INIT;

    *a = login("clerk-a", "a-krelc-tundra-ferns-61");
    *b = login("clerk-b", "b-krelc-tundra-ferns-61");
    *rec = registry_record_example();
    *id = NULL;
    assert_int_equal(registry_record_draft(db, *a, *rec, id, &err), 0);
}

static void test_four_eyes_read_failure_refuses(void **state)
{
    struct registry_actor *a, *b;
    struct err err = ERR_INIT;
    json_t *rec;
    char *id;
    (void)state;

    clerk_a_drafts(&a, &b, &rec, &id);

    /* clerk-a keyed it; the read that would say so fails */
    interrupted = 0;
    sqlite3_progress_handler(db_handle(db), 1, interrupt_matching, (void *)"keyed_by=?2");
    int rc = registry_record_verify(db, a, id, rec, NULL, &err);
    sqlite3_progress_handler(db_handle(db), 0, NULL, NULL);
    assert_true(interrupted > 0);
    if (rc == 0)
        fail_msg("a failed four-eyes read let clerk-a verify the record clerk-a keyed");
    assert_non_null(strstr(err_msg(&err), "checking who keyed the record"));
    assert_string_equal(record_status(id), "draft");

    /* without the fault: the rule itself, then the second clerk */
    four_eyes_then_second_clerk(a, b, id, rec);
}

/* A reader that meets a lock gets SQLITE_BUSY; inside the four-eyes check
 * that must refuse, not read as "not keyed by this clerk". The pages the
 * check reads are dropped from the connection's cache when it starts, so
 * it has to read them, and the shim answers each read with SQLITE_BUSY. */
static int flushed;
static int flush_on_start(void *ctx)
{
    (void)ctx;
    if (!flushed && busy_now()) {
        flushed = 1;
        sqlite3_db_release_memory(db_handle(db));
    }
    return 0;
}

static void test_four_eyes_busy_refuses(void **state)
{
    struct registry_actor *a, *b;
    struct err err = ERR_INIT;
    json_t *rec;
    char *id;
    int rc;
    (void)state;

    clerk_a_drafts(&a, &b, &rec, &id);

    busy_given = 0;
    flushed = 0;
    busy_sql = "keyed_by=?2";
    sqlite3_progress_handler(db_handle(db), 1, flush_on_start, NULL);
    rc = registry_record_verify(db, a, id, rec, NULL, &err);
    sqlite3_progress_handler(db_handle(db), 0, NULL, NULL);
    busy_sql = NULL;
    if (busy_given == 0)
        fail_msg("the four-eyes read never met the injected SQLITE_BUSY (rc %d: %s)", rc,
                 err_msg(&err));
    if (rc == 0)
        fail_msg("SQLITE_BUSY in the four-eyes read let clerk-a verify the record clerk-a keyed");
    assert_non_null(strstr(err_msg(&err), "checking who keyed the record"));
    assert_non_null(strstr(err_msg(&err), "database is locked"));
    assert_string_equal(record_status(id), "draft");

    /* the lock gone: the rule itself, then the second clerk */
    four_eyes_then_second_clerk(a, b, id, rec);
}

/* The registration gate reads whether a registrar resolved the record as
 * the same birth as another; a failure of that read must refuse the
 * registration, not read as "not a duplicate". */
static void test_duplicate_gate_read_failure_refuses(void **state)
{
    struct registry_actor *a, *b, *admin, *reg;
    struct err err = ERR_INIT;
    json_t *rec, *res = NULL;
    char *id;
    int rc;
    (void)state;

    /* a birth unlike the example the other tests draft, so that no possible
     * duplicate stands open in front of the gate's second read */
    a = login("clerk-a", "a-krelc-tundra-ferns-61");
    b = login("clerk-b", "b-krelc-tundra-ferns-61");
    rec = registry_record_example();
    json_object_set_new(json_object_get(rec, "child"), "given_names", json_string("Zebulon"));
    json_object_set_new(json_object_get(rec, "child"), "family_name", json_string("Achterberg"));
    json_object_set_new(json_object_get(rec, "birth"), "date", json_string("1951-03-07"));
    json_object_del(rec, "registration_date");
    id = NULL;
    assert_int_equal(registry_record_draft(db, a, rec, &id, &err), 0);
    assert_int_equal(registry_record_verify(db, b, id, rec, NULL, &err), 0);
    admin = login("admin", "nimda-tundra-ferns-61");
    add_user(admin, "registrar", ROLE_REGISTRAR, "rartsiger-tundra-ferns-61");
    reg = login("registrar", "rartsiger-tundra-ferns-61");

    interrupted = 0;
    sqlite3_progress_handler(db_handle(db), 1, interrupt_matching,
                             (void *)"status = 'duplicate' LIMIT 1");
    rc = registry_record_register(db, reg, id, &res, &err);
    sqlite3_progress_handler(db_handle(db), 0, NULL, NULL);
    if (interrupted == 0)
        fail_msg("the duplicate resolution read never ran (rc %d: %s)", rc, err_msg(&err));
    if (rc == 0)
        fail_msg("a failed read of the duplicate resolutions let the record be registered");
    assert_non_null(strstr(err_msg(&err), "reading duplicate candidates"));
    assert_string_equal(record_status(id), "verified");

    /* without the fault it registers */
    assert_int_equal(registry_record_register(db, reg, id, &res, &err), 0);
    assert_string_equal(record_status(id), "registered");
    json_decref(res);
    json_decref(rec);
    free(id);
    registry_actor_free(a);
    registry_actor_free(b);
    registry_actor_free(admin);
    registry_actor_free(reg);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static int count_temporaries(const char *keys)
{
    DIR *d = opendir(keys);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, ".tree-head.", 11) == 0)
            n++;
    closedir(d);
    return n;
}

static void test_witness_write_failure_closes(void **state)
{
    struct rlimit old, small = { 8, 8 };
    json_t *head = json_pack("{s:i, s:s, s:s}", "tree_size", 12, "root_hash",
                             "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                             "office", "HQ");
    int before, after;
    (void)state;

    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    small.rlim_max = old.rlim_max;
    /* a write past the limit comes up short (EFBIG) instead of killing us */
    signal(SIGXFSZ, SIG_IGN);
    before = count_fds();
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    for (int i = 0; i < 20; i++)
        reg_witness_write(dd->keys_dir, head);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    after = count_fds();
    if (after != before)
        fail_msg("20 failed witness writes left %d descriptors open", after - before);
    assert_int_equal(count_temporaries(dd->keys_dir), 0);
    /* and a write that can succeed still does */
    reg_witness_write(dd->keys_dir, head);
    assert_int_equal(count_fds(), before);
    json_decref(head);
}

/* ---- the bulk import: refusals keep the batch, a database failure undoes it ---- */

static long long count_rows(const char *table)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    return sqlite_long(db_handle(db), sql);
}

/* The last signed tree head: its size, and the previous_size its v2 body
 * names (-1 when it is not a v2 head). */
static long long last_head_size(void)
{
    return sqlite_long(db_handle(db), "SELECT max(tree_size) FROM tree_heads");
}

static long long last_head_previous(void)
{
    sqlite3_stmt *st = sqlite_row(db_handle(db),
                                  "SELECT json_extract(body, '$.type'),"
                                  " json_extract(body, '$.previous_size') FROM tree_heads"
                                  " ORDER BY tree_size DESC LIMIT 1");
    long long n = -1;
    if (sqlite3_column_text(st, 0) &&
        strcmp((const char *)sqlite3_column_text(st, 0), "civreg.tree_head.v2") == 0)
        n = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    return n;
}

/* Progress handler: interrupt the storing of import line 3 (the third draft
 * of the batch), after its event, record and version rows are written. */
static int interrupt_line_3(void *ctx)
{
    sqlite3 *h = db_handle(db);
    (void)ctx;
    for (sqlite3_stmt *s = sqlite3_next_stmt(h, NULL); s; s = sqlite3_next_stmt(h, s)) {
        const char *sql = sqlite3_sql(s);
        char *x;
        bool hit;
        if (!sqlite3_stmt_busy(s) || sql == NULL || !strstr(sql, "INTO record_import_lines"))
            continue;
        x = sqlite3_expanded_sql(s);
        hit = x && strstr(x, "', 3, '") != NULL;
        sqlite3_free(x);
        if (hit) {
            interrupted++;
            return 1;
        }
    }
    return 0;
}

static void audit_problem(void *ctx, const char *line)
{
    (void)ctx;
    print_message("audit: %s\n", line);
}

static void audit_clean(void)
{
    struct registry_audit_stats stats;
    struct err err = ERR_INIT;
    int problems = registry_audit_verify(db, dd->keys_dir, dd->blobs_dir, NULL, audit_problem, NULL, &stats,
                                         &err);
    if (problems != 0)
        fail_msg("audit verify: %d problems (%s)", problems, err_msg(&err));
}

static void test_import_batch_failure_after_write_undoes_batch(void **state)
{
    static const char *const family[] = { "Quennell", "Rautavaara", "Szymborska", "Tshabalala",
                                           "Ugarte" };
    struct registry_import_source src = {
        "00000000000000000000000000000000000000000000000000000000000fa017", NULL
    };
    struct registry_actor *a;
    struct err err = ERR_INIT, errs[5];
    json_t *recs[5];
    char *ids[5];
    bool already[5];
    long lines[5];
    long long events, records, heads;
    int rc;
    (void)state;

    /* the witness test above left a made-up head in the witness file */
    {
        json_t *head = NULL;
        assert_int_equal(registry_log_head(db, &head, &err), 0);
        reg_witness_write(dd->keys_dir, head);
        json_decref(head);
    }
    a = login("clerk-a", "a-krelc-tundra-ferns-61");
    for (int i = 0; i < 5; i++) {
        char date[16];
        recs[i] = registry_record_example();
        snprintf(date, sizeof date, "19%02d-0%d-11", 60 + 7 * i, 1 + i);
        json_object_set_new(json_object_get(recs[i], "child"), "family_name",
                            json_string(family[i]));
        json_object_set_new(json_object_get(recs[i], "birth"), "date", json_string(date));
        json_object_del(recs[i], "registration_date");
        lines[i] = i + 1;
        errs[i] = (struct err)ERR_INIT;
    }
    src.lines = lines;
    events = count_rows("events");
    records = count_rows("birth_records");
    heads = count_rows("tree_heads");

    /* a database failure after the third draft's first writes: nothing of
     * the batch stays, not even the drafts before it or a part of its event */
    interrupted = 0;
    sqlite3_progress_handler(db_handle(db), 1, interrupt_line_3, NULL);
    rc = registry_record_import_batch(db, a, &src, recs, 5, ids, already, errs, &err);
    sqlite3_progress_handler(db_handle(db), 0, NULL, NULL);
    assert_true(interrupted > 0);
    if (rc >= 0)
        fail_msg("a failure after a draft's first write left %d drafts of the batch", rc);
    for (int i = 0; i < 5; i++)
        assert_null(ids[i]);
    assert_int_equal(count_rows("events"), events);
    assert_int_equal(count_rows("birth_records"), records);
    /* the rolled-back batch signed no head */
    assert_int_equal(count_rows("tree_heads"), heads);
    audit_clean();

    /* a draft refused for what it is (evidence not stored) leaves the others */
    json_object_set_new(recs[1], "evidence",
                        json_pack("[s]", "abababababababababababababababababababababababababababababababab"));
    rc = registry_record_import_batch(db, a, &src, recs, 5, ids, already, errs, &err);
    if (rc != 4)
        fail_msg("import: %d drafted (%s / %s), 4 expected", rc, err_msg(&err), err_msg(&errs[1]));
    assert_null(ids[1]);
    assert_true(err_msg(&errs[1])[0] != '\0');
    for (int i = 0; i < 5; i++) {
        if (i != 1)
            assert_string_equal(record_status(ids[i]), "draft");
        free(ids[i]);
        json_decref(recs[i]);
    }
    assert_int_equal(count_rows("birth_records"), records + 4);
    assert_int_equal(count_rows("events"), events + 4);
    /* one transaction, one signed tree head over its four events */
    assert_int_equal(count_rows("tree_heads"), heads + 1);
    assert_int_equal(last_head_previous(), events);
    audit_clean();
    registry_actor_free(a);
}

/* Two keyings of one birth in the same import batch: the second draft's
 * duplicate scan sees the first (its index entry and name keys are written
 * in the same transaction, before the next draft), and a third, distinct
 * birth is flagged with neither. The drafts' names are folded once for the
 * index and the scan. */
static void test_import_batch_flags_duplicate_within_batch(void **state)
{
    struct registry_actor *a;
    struct err err = ERR_INIT, errs[3] = { ERR_INIT, ERR_INIT, ERR_INIT };
    json_t *recs[3];
    char *ids[3] = { NULL };
    char where[160];
    int rc;
    (void)state;

    a = login("clerk-a", "a-krelc-tundra-ferns-61");
    for (int i = 0; i < 3; i++) {
        recs[i] = registry_record_example();
        json_object_del(recs[i], "registration_date");
        json_object_set_new(json_object_get(recs[i], "child"), "family_name",
                            json_string(i < 2 ? "Zwelithini" : "Yamamura-Quist"));
        json_object_set_new(json_object_get(recs[i], "birth"), "date",
                            json_string(i < 2 ? "1977-05-19" : "1981-11-02"));
    }
    /* the second keying differs in the birth's time of day only */
    json_object_set_new(json_object_get(recs[1], "birth"), "time", json_string("23:59"));
    rc = registry_record_draft_batch(db, a, recs, 3, ids, errs, &err);
    if (rc != 3)
        fail_msg("import: %d drafted (%s / %s)", rc, err_msg(&err), err_msg(&errs[1]));
    snprintf(where, sizeof where, "dup_candidates WHERE record_id = '%s' AND other_id = '%s'",
             ids[1], ids[0]);
    assert_int_equal(count_rows(where), 1);
    snprintf(where, sizeof where, "dup_candidates WHERE record_id = '%s' OR other_id = '%s'",
             ids[2], ids[2]);
    assert_int_equal(count_rows(where), 0);
    snprintf(where, sizeof where, "dup_candidates WHERE record_id = '%s'", ids[0]);
    assert_int_equal(count_rows(where), 0);
    for (int i = 0; i < 3; i++) {
        free(ids[i]);
        json_decref(recs[i]);
    }
    audit_clean();
    registry_actor_free(a);
}

/* The first column of SQL's one row for ?1 = ID, as text (malloc'd; "NULL"
 * when SQL gives no row or NULL). */
static char *row_text(const char *sql, const char *id)
{
    sqlite3_stmt *st = NULL;
    const unsigned char *v;
    char *out;

    assert_int_equal(sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    out = strdup(v ? (const char *)v : "NULL");
    assert_non_null(out);
    sqlite3_finalize(st);
    return out;
}

/* Draft I of the batches prepared on a second thread, born in CENTURY:
 * names in decomposed Unicode, with diacritics and in other scripts. */
static json_t *prepak_record(int i, int century)
{
    static const char *const family[] = { "Zo\xc3\xab-Prepak", "Nguy\xe1\xbb\x85n-Prepak",
                                          "O\xcc\x88sterprepak", "\303\230degaard-Prepak",
                                          "Prepakowski", "\xce\x9a\xce\xbf\xcf\x81\xce\xb4\xce\xb9",
                                          "Ame\xcc\x81lie-Prepak", "Prepak O'Hara" };
    static const char *const suffix[] = { "a", "o", "e", "i", "u" };
    json_t *rec = registry_record_example();
    char name[96], date[48];

    json_object_del(rec, "registration_date");
    snprintf(name, sizeof name, "%s%s", family[i % 8], suffix[(i / 8) % 5]);
    json_object_set_new(json_object_get(rec, "child"), "family_name", json_string(name));
    json_object_set_new(json_object_get(rec, "child"), "given_names",
                        json_string(i % 3 ? "Jose\314\201 Mari\314\201a" : "Prepak"));
    snprintf(date, sizeof date, "%d%02d-0%d-1%d", century, 21 + i, 1 + i % 9, i % 10);
    json_object_set_new(json_object_get(rec, "birth"), "date", json_string(date));
    return rec;
}

/* What records BATCH and SERIAL store is the same, byte for byte (version
 * data and hash, index entry, FTS5 terms, name keys, status and verifier,
 * the verification's re-keyed hash); WHAT names them in a failure. */
static void assert_stored_same(const char *batch, const char *serial, const char *what)
{
    static const char *const compare[] = {
        "SELECT data || '|' || hash FROM record_versions WHERE record_id = ?1",
        "SELECT quote(given) || quote(family) || quote(sex) || quote(dob) || quote(place) ||"
        " quote(mother) || quote(father) || quote(given_key) || quote(family_key) ||"
        " quote(place_key) || quote(mother_key) || quote(father_key) FROM search_index"
        " WHERE record_id = ?1",
        "SELECT quote(names) || quote(names_ph) || quote(parents) || quote(parents_ph) ||"
        " quote(place) || quote(dates) FROM search_fts"
        " WHERE rowid = (SELECT rowid FROM search_index WHERE record_id = ?1)",
        "SELECT names FROM search_tri WHERE rowid = (SELECT rowid FROM search_index"
        " WHERE record_id = ?1)",
        "SELECT group_concat(key || '@' || dob, ',') FROM (SELECT key, dob FROM"
        " search_name_keys WHERE rec = (SELECT rowid FROM search_index WHERE record_id = ?1)"
        " ORDER BY key, dob)",
        "SELECT status || '|' || coalesce(verified_by, '-') FROM birth_records WHERE id = ?1",
        "SELECT coalesce(group_concat(json_extract(e.body, '$.data.rekeyed_hash')), '-')"
        " FROM events e JOIN event_objects o ON o.seq = e.seq"
        " WHERE o.kind = 'record' AND o.object_id = ?1 AND e.type = 'record.verify'",
    };

    for (size_t q = 0; q < sizeof compare / sizeof compare[0]; q++) {
        char *x = row_text(compare[q], batch), *y = row_text(compare[q], serial);
        if (strcmp(x, y) != 0 || strcmp(x, "NULL") == 0)
            fail_msg("%s, %s:\n batch  %s\n serial %s", what, compare[q], x, y);
        free(x);
        free(y);
    }
}

/* A batch's drafts are normalized, put in canonical form and folded on a
 * second thread while the batch writes: what it stores for each draft is
 * what the serial path (registry_record_draft) stores for the same input,
 * byte for byte, in the batch's order, and a draft the normalization
 * refuses is refused alone with the serial path's message. 40 drafts:
 * enough for the preparing thread to start (draft_prep.c). */
static void test_import_batch_prepared_same_as_serial(void **state)
{
    enum { N = 40, BAD = 7 };
    struct registry_actor *a;
    struct err err = ERR_INIT, errs[N];
    json_t *recs[N];
    char *ids[N] = { NULL };
    int rc;
    (void)state;

    a = login("clerk-a", "a-krelc-tundra-ferns-61");
    for (int i = 0; i < N; i++) {
        recs[i] = prepak_record(i, 18);
        errs[i] = (struct err)ERR_INIT;
    }
    json_object_set_new(json_object_get(recs[BAD], "child"), "sex", json_string("unknown"));
    rc = registry_record_draft_batch(db, a, recs, N, ids, errs, &err);
    if (rc != N - 1)
        fail_msg("batch: %d drafted (%s / %s)", rc, err_msg(&err), err_msg(&errs[BAD]));
    for (int i = 0; i < N; i++) {
        char *serial = NULL, what[32];
        int r = registry_record_draft(db, a, recs[i], &serial, &err);
        if (i == BAD) {
            assert_int_not_equal(r, 0);
            assert_null(ids[i]);
            assert_string_equal(err_msg(&errs[i]), err_msg(&err));
            continue;
        }
        if (r != 0)
            fail_msg("draft %d: %s", i, err_msg(&err));
        assert_non_null(ids[i]);
        snprintf(what, sizeof what, "draft %d", i);
        assert_stored_same(ids[i], serial, what);
        free(serial);
        free(ids[i]);
    }
    for (int i = 0; i < N; i++)
        json_decref(recs[i]);
    audit_clean();
    registry_actor_free(a);
}

/* Counts the statements of the connection that read the log's size. */
static int count_log_size_reads(unsigned type, void *ctx, void *p, void *x)
{
    const char *sql = sqlite3_sql(p);
    (void)x;
    if (type == SQLITE_TRACE_STMT && sql && strstr(sql, "max(seq)"))
        (*(int *)ctx)++;
    return 0;
}

/* An import batch reads the log's size once for its first append and once
 * for its tree head: each later append takes it from the frontier the one
 * before it left (the transaction holds the write lock). The events keep
 * consecutive numbers and the audit finds the log whole. */
static void test_import_batch_reads_log_size_once(void **state)
{
    enum { N = 40 };
    struct registry_actor *a;
    struct err err = ERR_INIT, errs[N];
    json_t *recs[N];
    char *ids[N] = { NULL };
    long long events0 = count_rows("events");
    int rc, reads = 0;
    (void)state;

    a = login("clerk-a", "a-krelc-tundra-ferns-61");
    for (int i = 0; i < N; i++) {
        recs[i] = prepak_record(i, 19);
        errs[i] = (struct err)ERR_INIT;
    }
    sqlite3_trace_v2(db_handle(db), SQLITE_TRACE_STMT, count_log_size_reads, &reads);
    rc = registry_record_draft_batch(db, a, recs, N, ids, errs, &err);
    sqlite3_trace_v2(db_handle(db), 0, NULL, NULL);
    if (rc != N)
        fail_msg("batch: %d drafted (%s)", rc, err_msg(&err));
    assert_int_equal(reads, 2);
    assert_int_equal(count_rows("events"), events0 + N);
    assert_int_equal(last_head_size(), count_rows("events"));
    for (int i = 0; i < N; i++) {
        free(ids[i]);
        json_decref(recs[i]);
    }
    audit_clean();
    registry_actor_free(a);
}

/* The bulk steps' draft and re-keying records are prepared on a second
 * thread too (registry_record_steps): each draft and verification stores
 * what registry_record_draft and registry_record_verify store for the same
 * input, and each refusal is theirs. 40 drafts, each verified by another
 * clerk: the same JSON (the draft's preparation shared), a copy in
 * composed Unicode (prepared on its own, normalized equal), a draft the
 * normalization refuses (its verification refused with the same message),
 * a re-keying it refuses, and one that disagrees (logged, refused). */
static void test_steps_prepared_same_as_serial(void **state)
{
    enum { N = 40, BAD = 8, BAD_REKEY = 11, DIFFERS = 13 };
    struct registry_actor *a, *b;
    struct registry_step st[2 * N];
    struct err err = ERR_INIT;
    json_t *recs[N], *rekeys[N];
    int rc;
    (void)state;

    a = login("clerk-a", "a-krelc-tundra-ferns-61");
    b = login("clerk-b", "b-krelc-tundra-ferns-61");
    for (int i = 0; i < N; i++) {
        recs[i] = prepak_record(i, 17);
        rekeys[i] = i % 2 ? json_deep_copy(recs[i]) : json_incref(recs[i]);
        if (i % 2 && i % 3)
            json_object_set_new(json_object_get(rekeys[i], "child"), "given_names",
                                json_string("Jos\xc3\xa9 Mar\xc3\xad" "a"));
    }
    json_object_set_new(json_object_get(recs[BAD], "child"), "sex", json_string("unknown"));
    json_object_set_new(json_object_get(rekeys[BAD_REKEY], "child"), "sex",
                        json_string("unknown"));
    json_object_set_new(json_object_get(rekeys[DIFFERS], "child"), "given_names",
                        json_string("Prepakina"));
    for (int i = 0; i < N; i++) {
        st[2 * i] = (struct registry_step){ .kind = REGISTRY_STEP_DRAFT, .actor = a,
                                            .record = recs[i] };
        st[2 * i + 1] = (struct registry_step){ .kind = REGISTRY_STEP_VERIFY, .actor = b,
                                                .record = rekeys[i], .draft = (size_t)(2 * i) };
    }
    rc = registry_record_steps(db, st, 2 * N, &err);
    if (rc != 2 * N - 4)
        fail_msg("steps: %d done (%s / %s / %s)", rc, err_msg(&err), err_msg(&st[0].err),
                 err_msg(&st[1].err));
    for (int i = 0; i < N; i++) {
        char *serial = NULL, what[32];
        json_t *mm = NULL;
        int r = registry_record_draft(db, a, recs[i], &serial, &err);
        if (i == BAD) {
            assert_int_not_equal(r, 0);
            assert_null(st[2 * i].new_id);
            assert_string_equal(err_msg(&st[2 * i].err), err_msg(&err));
            assert_false(st[2 * i + 1].done);
            assert_string_equal(err_msg(&st[2 * i + 1].err), err_msg(&err));
            continue;
        }
        if (r != 0)
            fail_msg("draft %d: %s", i, err_msg(&err));
        assert_true(st[2 * i].done);
        r = registry_record_verify(db, b, serial, rekeys[i], &mm, &err);
        assert_int_equal(st[2 * i + 1].done, r == 0);
        if (i == BAD_REKEY)
            assert_string_equal(err_msg(&st[2 * i + 1].err), err_msg(&err));
        else if (i == DIFFERS)
            assert_non_null(strstr(err_msg(&st[2 * i + 1].err), "differs from the draft"));
        else if (r != 0)
            fail_msg("verification %d: %s", i, err_msg(&err));
        json_decref(mm);
        snprintf(what, sizeof what, "draft %d", i);
        assert_stored_same(st[2 * i].new_id, serial, what);
        free(serial);
    }
    registry_steps_release(st, 2 * N);
    for (int i = 0; i < N; i++) {
        json_decref(recs[i]);
        json_decref(rekeys[i]);
    }
    audit_clean();
    registry_actor_free(a);
    registry_actor_free(b);
}

/* ---- the bulk batch of draft, verify and register steps ---- */

/* The runs so far of the connection's cached statements whose SQL holds
 * TEXT. */
static int stmt_runs(const char *text)
{
    sqlite3 *h = db_handle(db);
    int runs = 0;
    for (sqlite3_stmt *s = sqlite3_next_stmt(h, NULL); s; s = sqlite3_next_stmt(h, s)) {
        const char *sql = sqlite3_sql(s);
        if (sql != NULL && strstr(sql, text))
            runs += sqlite3_stmt_status(s, SQLITE_STMTSTATUS_RUN, 0);
    }
    return runs;
}

/* Progress handler: once the second registration of a batch has written
 * its event, person and record rows (the record's UPDATE run twice since
 * REGISTERED_RUNS), interrupt the next duplicate scan's name-key read: the
 * third draft's, after its own rows are written. A read interrupted leaves
 * the transaction open (an interrupted write would make SQLite roll it all
 * back by itself), so only the batch can undo them. */
static const char registered_sql[] = "SET status='registered', registration_number";
static int registered_runs;
static int interrupt_after_second_registration(void *ctx)
{
    sqlite3 *h = db_handle(db);
    (void)ctx;
    if (stmt_runs(registered_sql) < registered_runs + 2)
        return 0;
    for (sqlite3_stmt *s = sqlite3_next_stmt(h, NULL); s; s = sqlite3_next_stmt(h, s)) {
        const char *sql = sqlite3_sql(s);
        if (sqlite3_stmt_busy(s) && sql != NULL && strstr(sql, "FROM search_name_keys WHERE key")) {
            interrupted++;
            return 1;
        }
    }
    return 0;
}

/* Record I of set SET (0 to 2): people no other test drafts, each born
 * two years from the next (1901-1917), so that none pairs with another. */
static json_t *steps_record(int set, int i)
{
    static const char *const family[] = { "Vasconcelos", "Wieczorek",  "Xanthopoulos",
                                          "Yevtushenko", "Zubrowski",  "Abernathy",
                                          "Brzezinski",  "Castellanos", "Dimitrakopoulos" };
    static const char *const given[] = { "Xaver",    "Quirin", "Ottokar", "Leopoldine",
                                         "Wendelin", "Hildegard", "Gottfried", "Ermengarde",
                                         "Bonifaz" };
    int k = 3 * set + i;
    char date[48];
    json_t *rec = registry_record_example();
    snprintf(date, sizeof date, "%d-0%d-1%d", 1901 + 2 * k, 1 + i, i);
    json_object_set_new(json_object_get(rec, "child"), "family_name", json_string(family[k]));
    json_object_set_new(json_object_get(rec, "child"), "given_names", json_string(given[k]));
    json_object_set_new(json_object_get(rec, "birth"), "date", json_string(date));
    json_object_del(rec, "registration_date");
    return rec;
}

/* A person no other test drafts: FAMILY, GIVEN, born on DATE. */
static json_t *steps_person(const char *family, const char *given, const char *date)
{
    json_t *rec = steps_record(2, 2);
    json_object_set_new(json_object_get(rec, "child"), "family_name", json_string(family));
    json_object_set_new(json_object_get(rec, "child"), "given_names", json_string(given));
    json_object_set_new(json_object_get(rec, "birth"), "date", json_string(date));
    return rec;
}

/* Steps D, V, R for each of the N records. */
static void steps_fill(struct registry_step *st, json_t **recs, size_t n,
                       struct registry_actor *a, struct registry_actor *b,
                       struct registry_actor *r)
{
    for (size_t i = 0; i < n; i++) {
        st[3 * i] = (struct registry_step){ .kind = REGISTRY_STEP_DRAFT, .actor = a,
                                            .record = recs[i] };
        st[3 * i + 1] = (struct registry_step){ .kind = REGISTRY_STEP_VERIFY, .actor = b,
                                                .record = recs[i], .draft = 3 * i };
        st[3 * i + 2] = (struct registry_step){ .kind = REGISTRY_STEP_REGISTER, .actor = r,
                                                .draft = 3 * i };
    }
}

/* The steps tests' staff signed out: clerks A and B, registrar R. */
static void steps_staff_free(struct registry_actor *a, struct registry_actor *b,
                             struct registry_actor *r)
{
    registry_actor_free(a);
    registry_actor_free(b);
    registry_actor_free(r);
}

/* The end of a steps test: the data audited clean, then its N steps, its
 * records R1 and R2 (NULL: none) and its staff freed. */
static void steps_end(struct registry_step *st, int n, json_t *r1, json_t *r2,
                      struct registry_actor *a, struct registry_actor *b,
                      struct registry_actor *r)
{
    audit_clean();
    registry_steps_release(st, n);
    json_decref(r1);
    json_decref(r2);
    steps_staff_free(a, b, r);
}

/* The end of a steps test: its nine steps, three records and three actors. */
static void steps_done(struct registry_step *st, json_t **recs, struct registry_actor *a,
                       struct registry_actor *b, struct registry_actor *r)
{
    registry_steps_release(st, 9);
    for (int i = 0; i < 3; i++)
        json_decref(recs[i]);
    steps_staff_free(a, b, r);
}

/* N people (family FAMILY[i % 2], given name GIVEN[i % 3 != 0], each born
 * on a date of their own from YEAR0) drafted, verified and registered by A,
 * B and R in one registry_record_steps batch. Returns the steps done. */
enum { STEPS_PEOPLE_MAX = 32 };
static int steps_people(int n, const char *const family[2], const char *const given[2],
                        int year0, struct registry_actor *a, struct registry_actor *b,
                        struct registry_actor *r, struct err *err)
{
    struct registry_step st[3 * STEPS_PEOPLE_MAX];
    json_t *recs[STEPS_PEOPLE_MAX];
    int rc;

    assert_true(n <= STEPS_PEOPLE_MAX);
    for (int i = 0; i < n; i++) {
        char date[16];
        recs[i] = steps_person(family[i % 2], given[i % 3 != 0], "1950-01-01");
        (void)snprintf(date, sizeof date, "19%02d-%02d-%02d", year0 + i, 1 + i % 12, 1 + i % 28);
        json_object_set_new(json_object_get(recs[i], "birth"), "date", json_string(date));
    }
    steps_fill(st, recs, (size_t)n, a, b, r);
    rc = registry_record_steps(db, st, (size_t)(3 * n), err);
    registry_steps_release(st, 3 * n);
    for (int i = 0; i < n; i++)
        json_decref(recs[i]);
    return rc;
}

static struct registry_actor *steps_registrar(void)
{
    static bool added;
    if (!added) {
        struct registry_actor *admin = login("admin", "nimda-tundra-ferns-61");
        add_user(admin, "registrar-b", ROLE_REGISTRAR, "b-rartsiger-tundra-ferns-61");
        registry_actor_free(admin);
        added = true;
    }
    return login("registrar-b", "b-rartsiger-tundra-ferns-61");
}

/* The steps tests' staff signed in: clerks *A and *B, registrar *R (the
 * caller frees them with steps_staff_free). */
static void steps_staff(struct registry_actor **a, struct registry_actor **b,
                        struct registry_actor **r)
{
    *a = login("clerk-a", "a-krelc-tundra-ferns-61");
    *b = login("clerk-b", "b-krelc-tundra-ferns-61");
    *r = steps_registrar();
}

static void test_steps_failure_after_write_undoes_batch(void **state)
{
    struct registry_actor *a, *b, *r;
    struct registry_step st[9];
    struct err err = ERR_INIT;
    json_t *recs[3];
    long long events, records, persons, heads;
    int rc;
    (void)state;

    steps_staff(&a, &b, &r);
    for (int i = 0; i < 3; i++)
        recs[i] = steps_record(0, i);
    events = count_rows("events");
    heads = count_rows("tree_heads");
    records = count_rows("birth_records");
    persons = count_rows("persons");

    /* a database failure after the second registration and the third
     * draft's first writes: nothing of the batch stays, not the two records
     * registered before it, nor a part of the third */
    steps_fill(st, recs, 3, a, b, r);
    interrupted = 0;
    registered_runs = stmt_runs(registered_sql);
    sqlite3_progress_handler(db_handle(db), 1, interrupt_after_second_registration, NULL);
    rc = registry_record_steps(db, st, 9, &err);
    sqlite3_progress_handler(db_handle(db), 0, NULL, NULL);
    assert_true(interrupted > 0);
    if (rc >= 0)
        fail_msg("a failure after a step's first write left %d steps of the batch", rc);
    for (int i = 0; i < 9; i++) {
        assert_false(st[i].done);
        assert_null(st[i].new_id);
        assert_null(st[i].result);
    }
    assert_int_equal(count_rows("events"), events);
    assert_int_equal(count_rows("birth_records"), records);
    assert_int_equal(count_rows("persons"), persons);
    assert_int_equal(count_rows("tree_heads"), heads);
    audit_clean();

    /* a step refused for what it is checked for before its first write (the
     * clerk who keyed the draft verifies it: four eyes) is refused alone;
     * the registration of that record is refused too (an unverified
     * draft), the other records are registered */
    steps_fill(st, recs, 3, a, b, r);
    st[4].actor = a;
    rc = registry_record_steps(db, st, 9, &err);
    if (rc != 7)
        fail_msg("steps: %d done (%s / %s / %s), 7 expected", rc, err_msg(&err),
                 err_msg(&st[4].err), err_msg(&st[5].err));
    assert_false(st[4].done);
    assert_non_null(strstr(err_msg(&st[4].err), "four-eyes"));
    assert_false(st[5].done);
    assert_non_null(strstr(err_msg(&st[5].err), "unverified draft"));
    assert_string_equal(record_status(st[0].new_id), "registered");
    assert_string_equal(record_status(st[3].new_id), "draft");
    assert_string_equal(record_status(st[6].new_id), "registered");
    assert_non_null(json_object_get(st[8].result, "uin"));
    assert_int_equal(count_rows("events"), events + 7);
    assert_int_equal(count_rows("tree_heads"), heads + 1);
    assert_int_equal(count_rows("persons"), persons + 2);
    audit_clean();
    steps_done(st, recs, a, b, r);
}

/* The event types and actors of the log's events FROM to TO - 1. */
static char *log_shape(long long from, long long to)
{
    struct buf out = BUF_INIT(1 << 20);
    sqlite3_stmt *st = sqlite_prepare_ok(db_handle(db),
                                         "SELECT type || ' ' || actor FROM events WHERE seq >= ?1"
                                         " AND seq < ?2 ORDER BY seq");
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    while (sqlite3_step(st) == SQLITE_ROW)
        assert_int_equal(buf_printf(&out, "%s\n", (const char *)sqlite3_column_text(st, 0)), 0);
    sqlite3_finalize(st);
    {
        char *copy = strdup(buf_str(&out));
        buf_release(&out);
        assert_non_null(copy);
        return copy;
    }
}

/* The same three records taken from draft to registered step by step and
 * in one batch: the same events by the same actors, the same rows, an
 * audit-clean log and projection. */
static void test_steps_same_as_step_by_step(void **state)
{
    static const char *const tables[] = { "events", "birth_records", "record_versions",
                                          "persons", "search_index", "dup_candidates" };
    struct registry_actor *a, *b, *r;
    struct registry_step st[9];
    struct err err = ERR_INIT;
    json_t *recs[3], *res = NULL;
    long long before[6], mid[6], seq0, seq1, heads0, heads1;
    char *one, *batch;
    (void)state;

    steps_staff(&a, &b, &r);
    for (int t = 0; t < 6; t++)
        before[t] = count_rows(tables[t]);
    seq0 = count_rows("events");
    heads0 = count_rows("tree_heads");
    for (int i = 0; i < 3; i++) {
        char *id = NULL;
        recs[i] = steps_record(1, i);
        assert_int_equal(registry_record_draft(db, a, recs[i], &id, &err), 0);
        assert_int_equal(registry_record_verify(db, b, id, recs[i], NULL, &err), 0);
        assert_int_equal(registry_record_register(db, r, id, &res, &err), 0);
        json_decref(res);
        free(id);
        /* other people for the batch (the same ones would be duplicates) */
        json_decref(recs[i]);
        recs[i] = steps_record(2, i);
    }
    seq1 = count_rows("events");
    heads1 = count_rows("tree_heads");
    for (int t = 0; t < 6; t++)
        mid[t] = count_rows(tables[t]);
    steps_fill(st, recs, 3, a, b, r);
    if (registry_record_steps(db, st, 9, &err) != 9)
        fail_msg("steps: %s / %s / %s / %s", err_msg(&err), err_msg(&st[2].err),
                 err_msg(&st[5].err), err_msg(&st[8].err));
    for (int t = 0; t < 6; t++)
        if (count_rows(tables[t]) - mid[t] != mid[t] - before[t])
            fail_msg("%s: %lld rows step by step, %lld in the batch", tables[t],
                     mid[t] - before[t], count_rows(tables[t]) - mid[t]);
    /* a head per committed transaction: nine calls, one batch */
    assert_int_equal(heads1 - heads0, 9);
    assert_int_equal(count_rows("tree_heads") - heads1, 1);
    one = log_shape(seq0, seq1);
    batch = log_shape(seq1, count_rows("events"));
    assert_string_equal(one, batch);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(record_status(st[3 * i].new_id), "registered");
        assert_string_equal(json_string_value(json_object_get(st[3 * i + 2].result, "id")),
                            st[3 * i].new_id);
    }
    audit_clean();
    free(one);
    free(batch);
    steps_done(st, recs, a, b, r);
}

/* Pairs found by a draft's own duplicate scan dropped as they are stored
 * (a temporary trigger): the duplicate that arrives then is one no scan of
 * its own paired, and only the registration's rescan of the other record
 * can catch it. */
/* Drop every pair found (inserted) while COND holds (NEW: the pair). */
static void drop_pairs_when(const char *cond)
{
    char sql[768];
    snprintf(sql, sizeof sql,
             "CREATE TEMP TRIGGER drop_pairs AFTER INSERT ON main.dup_candidates WHEN %s"
             " BEGIN DELETE FROM dup_candidates WHERE record_id = NEW.record_id AND"
             " other_id = NEW.other_id; END",
             cond);
    assert_int_equal(sqlite3_exec(db_handle(db), sql, NULL, NULL, NULL), SQLITE_OK);
}

static void drop_pairs_found_at(const char *status)
{
    char cond[128];
    snprintf(cond, sizeof cond, "(SELECT status FROM birth_records WHERE id = NEW.record_id) = '%s'",
             status);
    drop_pairs_when(cond);
}

/* The pairs found by a record's scans before its verification (event): a
 * batch that registers a record it verified leaves its row to the
 * registration, so its status is no witness inside the batch. */
static void drop_pairs_found_unverified(void)
{
    drop_pairs_when("NOT EXISTS (SELECT 1 FROM event_objects o JOIN events e ON e.seq = o.seq"
                    " WHERE o.kind = 'record' AND o.object_id = NEW.record_id AND"
                    " e.type = 'record.verify')");
}

static void keep_pairs(void)
{
    assert_int_equal(sqlite3_exec(db_handle(db), "DROP TRIGGER temp.drop_pairs", NULL, NULL, NULL),
                     SQLITE_OK);
}

static bool pair_open(const char *id, const char *other)
{
    sqlite3_stmt *q = sqlite_prepare_ok(db_handle(db),
                                        "SELECT 1 FROM dup_candidates WHERE record_id = ?1 AND"
                                        " other_id = ?2 AND status = 'open'");
    bool open;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, other, -1, SQLITE_STATIC);
    open = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    return open;
}

/* A duplicate that came in after a record's draft was scanned is caught by
 * the scan at its registration: in one batch (the draft's record, read once
 * by its id), and in a batch naming an earlier record by its id. */
static void test_steps_rescan_catches_later_duplicate(void **state)
{
    struct registry_actor *a, *b, *r;
    struct registry_step st[4];
    struct err err = ERR_INIT;
    json_t *rec = steps_person("Quackenbush", "Philomena", "1869-03-03"),
           *other = steps_person("Vandersloot", "Cunegonde", "1865-07-07"), *res = NULL;
    char *x = NULL, *y = NULL;
    int rc;
    (void)state;

    steps_staff(&a, &b, &r);

    /* X drafted and verified, then Y, the same birth, drafted (its scan's
     * pair with X dropped), then X's registration: refused, the pair open */
    drop_pairs_found_unverified();
    st[0] = (struct registry_step){ .kind = REGISTRY_STEP_DRAFT, .actor = a, .record = rec };
    st[1] = (struct registry_step){ .kind = REGISTRY_STEP_VERIFY, .actor = b, .record = rec };
    st[2] = (struct registry_step){ .kind = REGISTRY_STEP_DRAFT, .actor = a, .record = rec };
    st[3] = (struct registry_step){ .kind = REGISTRY_STEP_REGISTER, .actor = r };
    rc = registry_record_steps(db, st, 4, &err);
    keep_pairs();
    if (rc != 3)
        fail_msg("steps: %d done (%s / %s)", rc, err_msg(&err), err_msg(&st[3].err));
    assert_false(st[3].done);
    assert_non_null(strstr(err_msg(&st[3].err), "possible duplicate"));
    assert_true(pair_open(st[0].new_id, st[2].new_id));
    assert_string_equal(record_status(st[0].new_id), "verified");
    registry_steps_release(st, 4);

    /* another person: X drafted and verified, then Y registered with every
     * pair its scans found dropped; X's registration in a batch that names
     * it: refused */
    assert_int_equal(registry_record_draft(db, a, other, &x, &err), 0);
    assert_int_equal(registry_record_verify(db, b, x, other, NULL, &err), 0);
    drop_pairs_found_at("draft");
    assert_int_equal(registry_record_draft(db, a, other, &y, &err), 0);
    keep_pairs();
    drop_pairs_found_at("verified");
    assert_int_equal(registry_record_verify(db, b, y, other, NULL, &err), 0);
    rc = registry_record_register(db, r, y, &res, &err);
    keep_pairs();
    if (rc != 0)
        fail_msg("registering the later duplicate: %s", err_msg(&err));
    json_decref(res);
    assert_false(pair_open(x, y));
    assert_false(pair_open(y, x));
    st[0] = (struct registry_step){ .kind = REGISTRY_STEP_REGISTER, .actor = r, .id = x };
    rc = registry_record_steps(db, st, 1, &err);
    if (rc != 0)
        fail_msg("steps: %d done (%s / %s)", rc, err_msg(&err), err_msg(&st[0].err));
    assert_non_null(strstr(err_msg(&st[0].err), "possible duplicate"));
    assert_true(pair_open(x, y));
    assert_string_equal(record_status(x), "verified");
    steps_end(st, 1, rec, other, a, b, r);
    free(x);
    free(y);
}

/* A batch writes its drafts' search_fts rows once, at the end, with the
 * numbers their registrations gave them; a duplicate scan that queries
 * search_fts inside the batch (names without a phonetic key pair: "J Li")
 * finds the batch's earlier drafts all the same, and a row written by such
 * a scan is rewritten at its registration. */
static void test_steps_held_index_rows_read_first(void **state)
{
    struct registry_actor *a, *b, *r;
    struct registry_step st[5];
    struct err err = ERR_INIT;
    json_t *z = steps_person("Kowalczykowna", "Radegunde", "1873-05-05"),
           *x = steps_person("Li", "J", "1871-09-09");
    char where[160];
    int rc;
    (void)state;

    steps_staff(&a, &b, &r);
    st[0] = (struct registry_step){ .kind = REGISTRY_STEP_DRAFT, .actor = a, .record = z };
    st[1] = (struct registry_step){ .kind = REGISTRY_STEP_VERIFY, .actor = b, .record = z };
    st[2] = (struct registry_step){ .kind = REGISTRY_STEP_DRAFT, .actor = a, .record = x };
    st[3] = (struct registry_step){ .kind = REGISTRY_STEP_DRAFT, .actor = a, .record = x };
    st[4] = (struct registry_step){ .kind = REGISTRY_STEP_REGISTER, .actor = r };
    rc = registry_record_steps(db, st, 5, &err);
    if (rc != 5)
        fail_msg("steps: %d done (%s / %s / %s)", rc, err_msg(&err), err_msg(&st[2].err),
                 err_msg(&st[4].err));
    /* the second J Li's scan (FTS5 passes) found the first */
    assert_true(pair_open(st[3].new_id, st[2].new_id));
    /* Z's row, written before its registration by those scans, holds its
     * numbers; the audit recomputes every row of the index */
    snprintf(where, sizeof where, "search_fts WHERE search_fts MATCH 'ids:\"%s\"'",
             json_string_value(json_object_get(st[4].result, "uin")));
    assert_int_equal(count_rows(where), 1);
    assert_string_equal(record_status(st[0].new_id), "registered");
    steps_end(st, 5, z, x, a, b, r);
}

/* A record the batch drafted is not read back by its later steps: its
 * status and number are what the batch's steps made them. A second
 * registration and a verification after the registration are refused as
 * step by step ("already registered as" its number); so is a verification
 * by a clerk of another office. */
static void test_steps_drafted_head_from_batch(void **state)
{
    struct registry_actor *a, *b, *r, *other;
    struct registry_step st[6];
    struct err err = ERR_INIT;
    json_t *x = steps_person("Oyelaran-Thistlewood", "Sigismunda", "1867-02-02");
    char want[128];
    int rc;
    (void)state;

    steps_staff(&a, &b, &r);
    other = login("clerk-b", "b-krelc-tundra-ferns-61");
    assert_non_null(other);
    (void)snprintf(other->office, sizeof other->office, "%s", "ZZ99");
    st[0] = (struct registry_step){ .kind = REGISTRY_STEP_DRAFT, .actor = a, .record = x };
    st[1] = (struct registry_step){ .kind = REGISTRY_STEP_VERIFY, .actor = other, .record = x };
    st[2] = (struct registry_step){ .kind = REGISTRY_STEP_VERIFY, .actor = b, .record = x };
    st[3] = (struct registry_step){ .kind = REGISTRY_STEP_REGISTER, .actor = r };
    st[4] = (struct registry_step){ .kind = REGISTRY_STEP_REGISTER, .actor = r };
    st[5] = (struct registry_step){ .kind = REGISTRY_STEP_VERIFY, .actor = b, .record = x };
    rc = registry_record_steps(db, st, 6, &err);
    if (rc != 3)
        fail_msg("steps: %d done (%s / %s / %s)", rc, err_msg(&err), err_msg(&st[1].err),
                 err_msg(&st[4].err));
    assert_false(st[1].done);
    assert_non_null(strstr(err_msg(&st[1].err), "users act only on their own office"));
    assert_true(st[3].done);
    (void)snprintf(want, sizeof want, "already registered as %s",
                   json_string_value(json_object_get(st[3].result, "registration_number")));
    assert_false(st[4].done);
    if (strstr(err_msg(&st[4].err), want) == NULL)
        fail_msg("second registration: %s (want %s)", err_msg(&st[4].err), want);
    assert_false(st[5].done);
    assert_non_null(strstr(err_msg(&st[5].err), "is already registered"));
    assert_string_equal(record_status(st[0].new_id), "registered");
    steps_end(st, 6, x, NULL, a, b, r);
    registry_actor_free(other);
}

/* Disagreements in one batch count as they do step by step: the second
 * sends the draft back, a third verification is refused, and so is the
 * registration; a verification by the draft's keyer is refused first. */
static void test_steps_mismatch_rounds(void **state)
{
    struct registry_actor *a, *b, *r;
    struct registry_step st[6];
    struct err err = ERR_INIT;
    json_t *rec = steps_person("Ouellette", "Rosalind", "1863-11-11"), *other;
    long long mismatches0 = count_rows("events");
    int rc;
    (void)state;

    other = json_deep_copy(rec);
    json_object_set_new(json_object_get(other, "child"), "given_names", json_string("Rosamund"));
    steps_staff(&a, &b, &r);
    st[0] = (struct registry_step){ .kind = REGISTRY_STEP_DRAFT, .actor = a, .record = rec };
    st[1] = (struct registry_step){ .kind = REGISTRY_STEP_VERIFY, .actor = a, .record = rec };
    st[2] = (struct registry_step){ .kind = REGISTRY_STEP_VERIFY, .actor = b, .record = other };
    st[3] = (struct registry_step){ .kind = REGISTRY_STEP_VERIFY, .actor = b, .record = other };
    st[4] = (struct registry_step){ .kind = REGISTRY_STEP_VERIFY, .actor = b, .record = rec };
    st[5] = (struct registry_step){ .kind = REGISTRY_STEP_REGISTER, .actor = r };
    rc = registry_record_steps(db, st, 6, &err);
    if (rc != 1)
        fail_msg("steps: %d done (%s)", rc, err_msg(&err));
    assert_non_null(strstr(err_msg(&st[1].err), "four-eyes"));
    assert_non_null(strstr(err_msg(&st[2].err), "differs from the draft"));
    assert_non_null(strstr(err_msg(&st[3].err), "differs again"));
    assert_non_null(strstr(err_msg(&st[4].err), "sent back"));
    assert_non_null(strstr(err_msg(&st[5].err), "unverified draft"));
    /* the draft and two record.mismatch events */
    assert_int_equal(count_rows("events"), mismatches0 + 3);
    assert_string_equal(record_status(st[0].new_id), "draft");
    steps_end(st, 6, rec, other, a, b, r);
}

/* A bulk transaction larger than REGISTRY_BATCH_MAX (its events would not
 * fit one sync push, which ends at a signed head) is refused before
 * anything is stored, steps and import drafts alike. */
static void test_batch_over_push_size_refused(void **state)
{
    struct registry_step *st = calloc(REGISTRY_BATCH_MAX + 1, sizeof *st);
    json_t **recs = calloc(REGISTRY_BATCH_MAX + 1, sizeof *recs);
    char **ids = calloc(REGISTRY_BATCH_MAX + 1, sizeof *ids);
    bool *already = calloc(REGISTRY_BATCH_MAX + 1, sizeof *already);
    struct err *errs = calloc(REGISTRY_BATCH_MAX + 1, sizeof *errs);
    const long lines[1] = { 1 };
    struct registry_import_source src = { "00", lines };
    struct registry_actor *a = login("clerk-a", "a-krelc-tundra-ferns-61");
    long long events0 = count_rows("events"), heads0 = count_rows("tree_heads");
    struct err err = ERR_INIT;
    (void)state;

    assert_non_null(st);
    assert_non_null(recs);
    assert_non_null(ids);
    assert_non_null(already);
    assert_non_null(errs);
    for (size_t i = 0; i <= REGISTRY_BATCH_MAX; i++)
        st[i] = (struct registry_step){ .kind = REGISTRY_STEP_DRAFT, .actor = a, .record = NULL };
    assert_int_equal(registry_record_steps(db, st, REGISTRY_BATCH_MAX + 1, &err), -1);
    assert_non_null(strstr(err_msg(&err), "at most 5000"));
    err_clear(&err);
    assert_int_equal(registry_record_import_batch(db, a, &src, recs, REGISTRY_BATCH_MAX + 1, ids,
                                                  already, errs, &err),
                     -1);
    assert_non_null(strstr(err_msg(&err), "at most 5000"));
    assert_int_equal(count_rows("events"), events0);
    assert_int_equal(count_rows("tree_heads"), heads0);
    free(st);
    free(recs);
    free(ids);
    free(already);
    free(errs);
    registry_actor_free(a);
}

/* A batch of many events (more than the 1,024 heads the earlier head
 * queue held) stores exactly one tree head: over the whole log as the
 * batch leaves it, naming the head before it. Runs last: its drafts of one
 * person leave many duplicate candidates. */
static void test_steps_one_head_per_batch(void **state)
{
    enum { DRAFTS = 1030 };
    struct registry_actor *a, *b, *r;
    struct registry_step *st = calloc(DRAFTS + 3, sizeof *st);
    struct err err = ERR_INIT;
    /* a person no other test drafts, born long before the others */
    json_t *one = steps_record(0, 0), *other = steps_person("Abernathy", "Ottoline", "1871-05-05");
    long long events0 = count_rows("events"), heads0 = count_rows("tree_heads");
    int rc;
    (void)state;

    assert_non_null(st);
    steps_staff(&a, &b, &r);
    for (size_t i = 0; i < DRAFTS; i++)
        st[i] = (struct registry_step){ .kind = REGISTRY_STEP_DRAFT, .actor = a, .record = one };
    steps_fill(st + DRAFTS, &other, 1, a, b, r);
    st[DRAFTS + 1].draft = st[DRAFTS + 2].draft = DRAFTS;
    rc = registry_record_steps(db, st, DRAFTS + 3, &err);
    if (rc != DRAFTS + 3)
        fail_msg("steps: %d done (%s / %s)", rc, err_msg(&err), err_msg(&st[DRAFTS + 2].err));
    assert_int_equal(count_rows("events"), events0 + DRAFTS + 3);
    assert_int_equal(count_rows("tree_heads"), heads0 + 1);
    assert_int_equal(last_head_size(), count_rows("events"));
    assert_int_equal(last_head_previous(), events0);
    assert_string_equal(record_status(st[DRAFTS].new_id), "registered");
    steps_end(st, DRAFTS + 3, one, other, a, b, r);
    free(st);
}

/* The duplicate gate's reads ("+status = 'open'", "status = 'duplicate'"),
 * run so far. */
static int gate_runs(void)
{
    return stmt_runs("+status = 'open'") + stmt_runs("status = 'duplicate' LIMIT 1");
}

/* A batch whose scans find no duplicate candidate registers its drafts
 * without reading the duplicate gate (they are in no pair); once a scan of
 * the batch finds one, the gate is read and refuses as step by step. */
static void test_steps_gate_read_once_paired(void **state)
{
    struct registry_actor *a, *b, *r;
    struct registry_step st[9];
    struct err err = ERR_INIT;
    json_t *recs[3] = { steps_person("Hargreaves-Umbach", "Eustachia", "1857-01-01"),
                        steps_person("Pfefferkorn", "Anselmus", "1853-06-06"),
                        steps_person("Tiefenbacher", "Cyrillus", "1837-10-10") };
    json_t *again[3] = { recs[2], recs[0], recs[0] };
    int rc, runs;
    (void)state;

    steps_staff(&a, &b, &r);
    /* two people unlike any other: registered, the gate not read */
    steps_fill(st, recs, 2, a, b, r);
    runs = gate_runs();
    rc = registry_record_steps(db, st, 6, &err);
    if (rc != 6)
        fail_msg("steps: %d done (%s / %s)", rc, err_msg(&err), err_msg(&st[5].err));
    assert_int_equal(gate_runs(), runs);
    assert_string_equal(record_status(st[0].new_id), "registered");
    assert_string_equal(record_status(st[3].new_id), "registered");
    registry_steps_release(st, 6);

    /* someone new, registered, then the first person twice (each found by
     * its draft's scan: the record registered before, the batch's earlier
     * draft): both held back by the gate */
    steps_fill(st, again, 3, a, b, r);
    runs = gate_runs();
    rc = registry_record_steps(db, st, 9, &err);
    if (rc != 7)
        fail_msg("steps: %d done (%s / %s / %s)", rc, err_msg(&err), err_msg(&st[5].err),
                 err_msg(&st[8].err));
    assert_true(st[2].done);
    assert_false(st[5].done);
    assert_non_null(strstr(err_msg(&st[5].err), "possible duplicate"));
    assert_false(st[8].done);
    assert_non_null(strstr(err_msg(&st[8].err), "possible duplicate"));
    assert_true(pair_open(st[3].new_id, st[6].new_id) || pair_open(st[6].new_id, st[3].new_id));
    assert_true(gate_runs() > runs);
    assert_string_equal(record_status(st[3].new_id), "verified");
    audit_clean();
    steps_done(st, recs, a, b, r);
}

/* An office with national UIN blocks: a batch's registrations draw its
 * unused UINs in order (the pool's presence read once a batch); once every
 * one is used, a registration fails the batch, as before. */
static void test_steps_uin_pool(void **state)
{
    struct registry_actor *a, *b, *r;
    struct registry_step st[9];
    struct err err = ERR_INIT;
    json_t *recs[3] = { steps_person("Oberholtzer", "Walpurga", "1849-02-02"),
                        steps_person("Quarshie", "Theodolinda", "1845-04-04"),
                        steps_person("Rautenstrauch", "Eberhardine", "1841-08-08") },
           *late = steps_person("Sandoval-Igwe", "Perpetua", "1833-12-12");
    char pool[3][REGISTRY_UIN_LEN + 1], sql[256];
    long long events;
    int rc;
    (void)state;

    steps_staff(&a, &b, &r);
    for (int i = 0; i < 3; i++) {
        registry_uin_generate(pool[i]);
        snprintf(sql, sizeof sql,
                 "INSERT INTO uin_pool(uin, block, received_at) VALUES ('%s', 'B1',"
                 " '2026-01-0%dT00:00:00Z')",
                 pool[i], i + 1);
        assert_int_equal(sqlite3_exec(db_handle(db), sql, NULL, NULL, NULL), SQLITE_OK);
    }
    steps_fill(st, recs, 3, a, b, r);
    rc = registry_record_steps(db, st, 9, &err);
    if (rc != 9)
        fail_msg("steps: %d done (%s / %s)", rc, err_msg(&err), err_msg(&st[8].err));
    for (int i = 0; i < 3; i++)
        assert_string_equal(json_string_value(json_object_get(st[3 * i + 2].result, "uin")),
                            pool[i]);
    assert_int_equal(count_rows("uin_pool WHERE used_at IS NULL"), 0);
    registry_steps_release(st, 9);

    /* every UIN of the blocks used: the registration fails after its
     * first writes, and the batch with it */
    events = count_rows("events");
    steps_fill(st, &late, 1, a, b, r);
    rc = registry_record_steps(db, st, 3, &err);
    assert_true(rc < 0);
    assert_non_null(strstr(err_msg(&err), "used every national UIN"));
    assert_int_equal(count_rows("events"), events);
    audit_clean();
    registry_steps_release(st, 3);
    /* the office draws its own UINs again for the tests after this one */
    assert_int_equal(sqlite3_exec(db_handle(db), "DELETE FROM uin_pool", NULL, NULL, NULL),
                     SQLITE_OK);
    for (int i = 0; i < 3; i++)
        json_decref(recs[i]);
    json_decref(late);
    steps_staff_free(a, b, r);
}

/* The events appended since EVENTS0 were signed on the line
 * (reg_sign_line_start): more than the 64 it holds at once (so the batch
 * also waited for the oldest), every row completed by the line's UPDATE
 * (counted from COMPLETED0: none when the batch signs inline), no zero
 * signature left, each leaf hash SHA-256(0x00 || body || signature), one
 * tree head over the log, the audit (signatures, Merkle nodes, heads)
 * clean. */
static void assert_signed_on_line(long long events0, int completed0)
{
    static const unsigned char zero[REG_SIG_BYTES];
    long long events1 = count_rows("events"), checked = 0;
    sqlite3_stmt *q;

    assert_true(events1 - events0 > 64);
    assert_int_equal(stmt_runs("UPDATE events SET signature") - completed0, events1 - events0);
    assert_int_equal(last_head_size(), events1);
    q = sqlite_prepare_ok(db_handle(db), "SELECT body, signature, leaf_hash FROM events"
                                      " WHERE seq >= ?1 ORDER BY seq");
    sqlite3_bind_int64(q, 1, events0);
    while (sqlite3_step(q) == SQLITE_ROW) {
        crypto_hash_sha256_state hs;
        unsigned char leaf[32];
        assert_int_equal(sqlite3_column_bytes(q, 1), REG_SIG_BYTES);
        assert_int_equal(sqlite3_column_bytes(q, 2), 32);
        assert_memory_not_equal(sqlite3_column_blob(q, 1), zero, REG_SIG_BYTES);
        crypto_hash_sha256_init(&hs);
        crypto_hash_sha256_update(&hs, (const unsigned char *)"\x00", 1);
        crypto_hash_sha256_update(&hs, sqlite3_column_text(q, 0),
                                  (unsigned long long)sqlite3_column_bytes(q, 0));
        crypto_hash_sha256_update(&hs, sqlite3_column_blob(q, 1), REG_SIG_BYTES);
        crypto_hash_sha256_final(&hs, leaf);
        assert_memory_equal(sqlite3_column_blob(q, 2), leaf, sizeof leaf);
        checked++;
    }
    sqlite3_finalize(q);
    assert_int_equal(checked, events1 - events0);
    audit_clean();
}

/* The bulk batch's event signatures are made on a thread of their own
 * (reg_sign_line_start): each event row is written with a zero signature
 * and leaf hash, then given both once signed, in log order, before the
 * commit. 30 records drafted, verified and registered (90 events, more
 * than the line holds at once): see assert_signed_on_line. */
static void test_steps_signed_on_line(void **state)
{
    enum { N = 30 };
    static const char *const family[2] = { "Oyelaran-Sorensen", "Quackenbush-Linde" },
                             *given[2] = { "Waldemar", "Theodolinde" };
    struct registry_actor *a, *b, *r;
    struct err err = ERR_INIT;
    long long events0 = count_rows("events");
    int rc, completed0 = stmt_runs("UPDATE events SET signature");
    (void)state;

    steps_staff(&a, &b, &r);
    rc = steps_people(N, family, given, 40, a, b, r, &err);
    if (rc < 2 * N)
        fail_msg("steps: %d done (%s)", rc, err_msg(&err));
    steps_staff_free(a, b, r);
    assert_signed_on_line(events0, completed0);
}

/* The registration's link statement is signed on the line too, with its
 * record.register event (reg_event_append_linked): 12 records drafted,
 * verified and registered in one batch. Each register event's body was
 * written again at its completion (fails when the batch signs the link
 * inline: checked); the signature its data carries is the person_links
 * row's, valid for the registrar over the row's statement; the audit is
 * clean. */
static void test_steps_link_signed_on_line(void **state)
{
    enum { N = 12 };
    static const char *const family[2] = { "Abernathy-Kowal", "Vanderschoot" },
                             *given[2] = { "Bartholomeus", "Ermenegilda" };
    struct registry_actor *a, *b, *r;
    struct err err = ERR_INIT;
    long long events0 = count_rows("events"), links0 = count_rows("person_links");
    int rc, bodies0 = stmt_runs("leaf_hash = ?2, body = ?4"), checked = 0;
    sqlite3_stmt *q;
    (void)state;

    steps_staff(&a, &b, &r);
    rc = steps_people(N, family, given, 20, a, b, r, &err);
    if (rc != 3 * N)
        fail_msg("steps: %d done (%s)", rc, err_msg(&err));
    assert_int_equal(stmt_runs("leaf_hash = ?2, body = ?4") - bodies0, N);
    assert_int_equal(count_rows("person_links") - links0, N);
    q = sqlite_prepare_ok(db_handle(db), "SELECT l.statement, l.signature, e.body FROM person_links l"
                                      " JOIN events e ON e.seq = l.event_seq"
                                      " WHERE l.event_seq >= ?1 ORDER BY l.event_seq");
    sqlite3_bind_int64(q, 1, events0);
    while (sqlite3_step(q) == SQLITE_ROW) {
        json_t *body = json_loads((const char *)sqlite3_column_text(q, 2), 0, NULL);
        const char *sig_hex = json_string_value(
            json_object_get(json_object_get(json_object_get(body, "data"), "link"), "signature"));
        char row_hex[2 * REG_SIG_BYTES + 1];
        assert_non_null(sig_hex);
        assert_int_equal(sqlite3_column_bytes(q, 1), REG_SIG_BYTES);
        hex_encode(sqlite3_column_blob(q, 1), REG_SIG_BYTES, row_hex);
        assert_string_equal(sig_hex, row_hex);
        assert_true(reg_sig_ok(r->pk, sqlite3_column_text(q, 0),
                               (size_t)sqlite3_column_bytes(q, 0), sqlite3_column_blob(q, 1),
                               REG_SIG_BYTES));
        json_decref(body);
        checked++;
    }
    sqlite3_finalize(q);
    assert_int_equal(checked, N);
    steps_staff_free(a, b, r);
    audit_clean();
}

/* The name-key rows of a record FAMILY, GIVEN born DOB, as its draft
 * indexes them. */
static int name_rows_of(const char *family, const char *given, const char *dob,
                        struct reg_name_rows *r)
{
    int date;
    json_t *rec = steps_person(family, given, dob);
    struct search_keys k;
    struct err err = ERR_INIT;

    assert_int_equal(reg_search_keys(rec, &k, &err), 0);
    assert_int_equal(reg_search_keys_texts(rec, &k), 0);
    date = reg_name_rows_of(buf_str(&k.texts.names_ph), dob, r);
    reg_search_keys_release(&k);
    json_decref(rec);
    return date;
}

/* Whether the registration of a record drafted as FAMILY GIVEN on DOB
 * scans again after the draft of OTHER_FAMILY OTHER_GIVEN on OTHER_DOB. */
static bool rescan_needed(const char *family, const char *given, const char *dob,
                          const char *other_family, const char *other_given,
                          const char *other_dob)
{
    json_t *rec = steps_person(family, given, dob);
    struct search_keys k;
    struct reg_name_rows later[2];
    int dates[2];
    struct err err = ERR_INIT;
    bool needed = false;

    assert_int_equal(reg_search_keys(rec, &k, &err), 0);
    dates[0] = name_rows_of("Zyzzogeton", "Quoxwell", "1801-01-01", &later[0]); /* nothing alike */
    dates[1] = name_rows_of(other_family, other_given, other_dob, &later[1]);
    assert_int_equal(reg_dup_rescan_needed(rec, &k, dates, later, 2, &needed, &err), 0);
    reg_search_keys_release(&k);
    json_decref(rec);
    return needed;
}

/* reg_dup_rescan_needed: a later draft in one of the name-key look-up's
 * passes (all its groups, or all but one: names and date) asks for the
 * scan again; one missing two groups, or born outside the look-up's years,
 * or with no name key in common, does not. */
static void test_dup_rescan_needed(void **state)
{
    (void)state;
    /* the same birth */
    assert_true(rescan_needed("Ostrowska", "Wilhelmina", "1931-04-05", "Ostrowska", "Wilhelmina",
                              "1931-04-05"));
    /* the same names, another year within one: misses the date only */
    assert_true(rescan_needed("Ostrowska", "Wilhelmina", "1931-04-05", "Ostrowska", "Wilhelmina",
                              "1932-09-09"));
    /* the same family name and date: misses the given name only */
    assert_true(rescan_needed("Ostrowska", "Wilhelmina", "1931-04-05", "Ostrowska", "Bartholomew",
                              "1931-04-05"));
    /* day and month swapped is the date's group too */
    assert_true(rescan_needed("Ostrowska", "Wilhelmina", "1931-04-05", "Ostrowska", "Bartholomew",
                              "1931-05-04"));
    /* the same family name, another year: two groups missed */
    assert_false(rescan_needed("Ostrowska", "Wilhelmina", "1931-04-05", "Ostrowska",
                               "Bartholomew", "1932-04-05"));
    /* the same names, born three years later: no row of it is read */
    assert_false(rescan_needed("Ostrowska", "Wilhelmina", "1931-04-05", "Ostrowska",
                               "Wilhelmina", "1934-04-05"));
    /* nothing in common but the date */
    assert_false(rescan_needed("Ostrowska", "Wilhelmina", "1931-04-05", "Kettleborough",
                               "Bartholomew", "1931-04-05"));
    /* a draft with no birth date has no name-key row; one whose rows are
     * not known asks for the scan */
    {
        struct reg_name_rows none, unknown;
        assert_int_equal(reg_name_rows_of("OSTRSK WLHLMN", NULL, &none), INT_MIN);
        assert_true(none.none);
        assert_false(none.many);
        assert_int_equal(reg_name_rows_of(NULL, "1931-04-05", &unknown), INT_MAX);
        assert_true(unknown.many);
    }
}

/* A batch drafting its records first and registering them after (as
 * `bench/registry` does): each registration's duplicate scan runs again
 * only when a draft since could change what it finds. Six people nothing
 * alike drafted, verified, registered: the name keys are read by the six
 * drafts' scans alone (two keys each; fails when every registration scans
 * again: 24 reads). Then six others and a seventh draft, the first's birth
 * again: the first's registration scans again (two more reads) and is
 * refused, the pair open; the five others are not scanned again. */
static void test_steps_rescan_only_when_needed(void **state)
{
    enum { N = 6 };
    static const char *const family[N] = { "Abercrombie", "Bukowski",  "Castellanos",
                                           "Drummondsen", "Esterhazy", "Fontainebleau" };
    static const char *const given[N] = { "Gwendolyn", "Horatio",  "Isadora",
                                          "Jeremias",  "Kunigunde", "Leopoldo" };
    struct registry_actor *a, *b, *r;
    struct registry_step st[3 * N + 1];
    json_t *recs[N + 1];
    struct err err = ERR_INIT;
    const char *key_sql = "FROM search_name_keys WHERE key = ?1";
    int rc, reads0;
    (void)state;

    steps_staff(&a, &b, &r);
    for (int round = 0; round < 2; round++) {
        size_t nd = round == 0 ? N : N + 1, k = 0;
        for (size_t i = 0; i < N; i++) {
            char date[16];
            /* people no earlier round or test drafted, decades apart */
            (void)snprintf(date, sizeof date, "18%d%d-0%zu-1%zu", (int)i + 1, round * 5, i + 1,
                           i + 1);
            recs[i] = steps_person(family[i], given[i], date);
        }
        if (nd > N)
            recs[N] = json_deep_copy(recs[0]);
        for (size_t i = 0; i < nd; i++)
            st[k++] = (struct registry_step){ .kind = REGISTRY_STEP_DRAFT, .actor = a,
                                              .record = recs[i] };
        for (size_t i = 0; i < N; i++)
            st[k++] = (struct registry_step){ .kind = REGISTRY_STEP_VERIFY, .actor = b,
                                              .record = recs[i], .draft = i };
        for (size_t i = 0; i < N; i++)
            st[k++] = (struct registry_step){ .kind = REGISTRY_STEP_REGISTER, .actor = r,
                                              .draft = i };
        reads0 = stmt_runs(key_sql);
        rc = registry_record_steps(db, st, k, &err);
        if (round == 0) {
            if (rc != 3 * N)
                fail_msg("steps: %d done (%s)", rc, err_msg(&err));
            assert_int_equal(stmt_runs(key_sql) - reads0, 2 * N);
        } else {
            if (rc != 3 * N)
                fail_msg("steps: %d done (%s / %s)", rc, err_msg(&err), err_msg(&st[nd + N].err));
            assert_int_equal(stmt_runs(key_sql) - reads0, 2 * (N + 1) + 2);
            assert_false(st[nd + N].done);
            assert_non_null(strstr(err_msg(&st[nd + N].err), "possible duplicate"));
            assert_true(pair_open(st[N].new_id, st[0].new_id) ||
                        pair_open(st[0].new_id, st[N].new_id));
        }
        registry_steps_release(st, k);
        for (size_t i = 0; i < nd; i++)
            json_decref(recs[i]);
    }
    steps_staff_free(a, b, r);
    audit_clean();
}

/* A batch's registration numbers taken from its counter once
 * (db_series_take): two batches of records drafted, verified and
 * registered (5, then 2) each run the counter's UPSERT once and write it
 * back once; their numbers follow each other with no gap, and the stored
 * counter is the last number given (fails when the batch does not write it
 * back: the second batch repeats the first's numbers, refused by the
 * UNIQUE registration number). */
static void test_steps_counter_once(void **state)
{
    enum { N = 5, M = 2 };
    static const char *const given[N + M] = { "Perpetua", "Wendelin", "Hyacinthe", "Ottokar",
                                              "Radegund", "Eustachius", "Philippina" };
    static const char *const family[N + M] = { "Oberholzer-Nakashima", "Featherstonehaugh",
                                               "Quartermaine-Abiodun", "Szczepanowski-Ruiz",
                                               "Wolstenholme-Achebe", "Cholmondeley-Ibarra",
                                               "Marjoribanks-Okafor" };
    struct registry_actor *a, *b, *r;
    struct registry_step st[3 * N];
    struct err err = ERR_INIT;
    json_t *recs[N];
    int upserts0 = stmt_runs("INTO registration_counters"),
        writes0 = stmt_runs("UPDATE registration_counters SET last");
    long long prev = -1, last = -1;
    char office[16] = "", counter_sql[128];
    int year = 0;
    (void)state;

    steps_staff(&a, &b, &r);
    for (int batch = 0, at = 0; batch < 2; batch++) {
        int n = batch == 0 ? N : M;
        for (int i = 0; i < n; i++) {
            char date[32];
            (void)snprintf(date, sizeof date, "19%02d-%02d-17", 31 + 3 * (at + i), 1 + at + i);
            recs[i] = steps_person(family[at + i], given[at + i], date);
        }
        steps_fill(st, recs, (size_t)n, a, b, r);
        if (registry_record_steps(db, st, (size_t)(3 * n), &err) != 3 * n)
            for (int i = 0; i < 3 * n; i++)
                if (!st[i].done)
                    fail_msg("batch %d step %d: %s %s", batch, i, err_msg(&st[i].err),
                             err_msg(&err));
        for (int i = 0; i < n; i++) {
            const char *regno = json_string_value(
                json_object_get(st[3 * i + 2].result, "registration_number"));
            const char *slash = regno ? strrchr(regno, '/') : NULL;
            assert_non_null(slash);
            if (prev >= 0)
                assert_int_equal(strtoll(slash + 1, NULL, 10), prev + 1);
            prev = strtoll(slash + 1, NULL, 10);
            (void)snprintf(office, sizeof office, "%.*s", (int)strcspn(regno, "/"), regno);
            year = (int)strtol(regno + strcspn(regno, "/") + 1, NULL, 10);
            json_decref(recs[i]);
        }
        registry_steps_release(st, (size_t)(3 * n));
        assert_int_equal(stmt_runs("INTO registration_counters") - upserts0, batch + 1);
        assert_int_equal(stmt_runs("UPDATE registration_counters SET last") - writes0, batch + 1);
        at += n;
    }
    (void)snprintf(counter_sql, sizeof counter_sql,
                   "SELECT last FROM registration_counters WHERE office = '%s' AND year = %d",
                   office, year);
    assert_int_equal(db_query_int64(db, counter_sql, "reading the counter", &last, &err, ""), 1);
    assert_int_equal(last, prev);
    steps_staff_free(a, b, r);
    audit_clean();
}

/* The import batch's record.draft events are signed on the line too
 * (registry_record_import_batch): 70 lines of a file imported in one
 * batch, one of them refused for what it is (its evidence not stored)
 * between drafts whose signatures are pending, then the same file again
 * (nothing added): the 69 drafts' events as assert_signed_on_line wants
 * them, each import line naming its draft. */
static void test_import_signed_on_line(void **state)
{
    enum { N = 70, REFUSED = 33 };
    struct registry_import_source src = {
        "00000000000000000000000000000000000000000000000000000000005161e5", NULL
    };
    struct registry_actor *a;
    struct err err = ERR_INIT, errs[N];
    json_t *recs[N];
    char *ids[N];
    bool already[N];
    long lines[N];
    long long events0 = count_rows("events"), lines0 = count_rows("record_import_lines");
    int rc, completed0 = stmt_runs("UPDATE events SET signature");
    (void)state;

    a = login("clerk-a", "a-krelc-tundra-ferns-61");
    for (int i = 0; i < N; i++) {
        recs[i] = prepak_record(i, 16);
        lines[i] = i + 1;
        errs[i] = (struct err)ERR_INIT;
    }
    json_object_set_new(recs[REFUSED], "evidence",
                        json_pack("[s]", "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"));
    src.lines = lines;
    rc = registry_record_import_batch(db, a, &src, recs, N, ids, already, errs, &err);
    if (rc != N - 1)
        fail_msg("import: %d drafted (%s), %d expected", rc, err_msg(&err), N - 1);
    assert_null(ids[REFUSED]);
    assert_true(err_msg(&errs[REFUSED])[0] != '\0');
    assert_int_equal(count_rows("events"), events0 + N - 1);
    assert_int_equal(count_rows("record_import_lines"), lines0 + N - 1);
    for (int i = 0; i < N; i++) {
        free(ids[i]);
        ids[i] = NULL;
    }
    assert_signed_on_line(events0, completed0);
    /* again: every line already imported, nothing appended or signed */
    rc = registry_record_import_batch(db, a, &src, recs, N, ids, already, errs, &err);
    if (rc != 0)
        fail_msg("import again: %d drafted (%s), none expected", rc, err_msg(&err));
    assert_int_equal(count_rows("events"), events0 + N - 1);
    for (int i = 0; i < N; i++) {
        assert_true(already[i] == (i != REFUSED));
        free(ids[i]);
        json_decref(recs[i]);
    }
    registry_actor_free(a);
}

/* SQLite's page cache counters of the connection: reset (READ false), or
 * the pages written and *SPILLED (written into the WAL before the commit)
 * since the reset. */
static int cache_pages(struct db *d, bool read, int *spilled)
{
    int written = 0, hi = 0, sp = 0;

    assert_int_equal(sqlite3_db_status(db_handle(d), SQLITE_DBSTATUS_CACHE_SPILL, &sp, &hi,
                                       !read),
                     SQLITE_OK);
    assert_int_equal(sqlite3_db_status(db_handle(d), SQLITE_DBSTATUS_CACHE_WRITE, &written,
                                       &hi, !read),
                     SQLITE_OK);
    if (spilled)
        *spilled = sp;
    return written;
}

/* A batch of the benchmark's size (500 records, 1,500 steps, one
 * transaction) keeps its changed pages in the page cache until its commit:
 * none is spilled into the WAL before it (SQLite's default cache of 2,000
 * KiB spills several hundred pages of such a batch). */
static void test_steps_batch_not_spilled(void **state)
{
    enum { N = 500 };
    struct registry_actor *a, *b, *r;
    struct registry_step *st = calloc(3 * N, sizeof *st);
    struct err err = ERR_INIT;
    json_t *recs[N];
    int spilled = 0, written, rc;
    (void)state;

    assert_non_null(st);
    steps_staff(&a, &b, &r);
    for (int i = 0; i < N; i++) {
        char family[32], date[16];
        snprintf(family, sizeof family, "Spillway-%d", i);
        snprintf(date, sizeof date, "19%02d-%02d-%02d", 10 + i % 80, 1 + i % 12, 1 + i % 28);
        recs[i] = steps_person(family, i % 2 ? "Theodolinde" : "Waldemar", date);
    }
    steps_fill(st, recs, N, a, b, r);
    (void)cache_pages(db, false, NULL);
    rc = registry_record_steps(db, st, 3 * N, &err);
    if (rc < 2 * N)
        fail_msg("steps: %d done (%s)", rc, err_msg(&err));
    written = cache_pages(db, true, &spilled);
    print_message("batch of %d records: %d pages spilled, %d written\n", N, spilled, written);
    assert_true(written > 0);
    assert_int_equal(spilled, 0);
    registry_steps_release(st, 3 * N);
    for (int i = 0; i < N; i++)
        json_decref(recs[i]);
    free(st);
    steps_staff_free(a, b, r);
    audit_clean();
}

/* The same for an import batch of `record import`'s default size
 * (REGISTRY_IMPORT_BATCH drafts, one transaction), on a connection of its
 * own (the group's has run batches before: its cache is set already). */
static void test_import_batch_not_spilled(void **state)
{
    enum { N = REGISTRY_IMPORT_BATCH };
    struct registry_import_source src = {
        "000000000000000000000000000000000000000000000000000000000005b177", NULL
    };
    struct registry_actor *a = login("clerk-a", "a-krelc-tundra-ferns-61");
    struct err err = ERR_INIT, *errs = calloc(N, sizeof *errs);
    json_t **recs = calloc(N, sizeof *recs);
    char **ids = calloc(N, sizeof *ids);
    bool *already = calloc(N, sizeof *already);
    long *lines = calloc(N, sizeof *lines);
    int spilled = 0, written, rc;
    struct db *own = NULL;
    (void)state;

    assert_true(errs && recs && ids && already && lines);
    if (datadir_db_open(dd, 0, &own, &err) != 0)
        fail_msg("open: %s", err_msg(&err));
    for (int i = 0; i < N; i++) {
        char family[32], date[16];
        snprintf(family, sizeof family, "Spillimport-%d", i);
        snprintf(date, sizeof date, "18%02d-%02d-%02d", 10 + i % 80, 1 + i % 12, 1 + i % 28);
        recs[i] = steps_person(family, i % 2 ? "Hildegund" : "Ottokar", date);
        lines[i] = i + 1;
        errs[i] = (struct err)ERR_INIT;
    }
    src.lines = lines;
    (void)cache_pages(own, false, NULL);
    rc = registry_record_import_batch(own, a, &src, recs, N, ids, already, errs, &err);
    if (rc != N)
        fail_msg("import: %d drafted (%s), %d expected", rc, err_msg(&err), N);
    written = cache_pages(own, true, &spilled);
    db_close(own);
    print_message("import batch of %d drafts: %d pages spilled, %d written\n", N, spilled,
                  written);
    assert_true(written > 0);
    assert_int_equal(spilled, 0);
    for (int i = 0; i < N; i++) {
        free(ids[i]);
        json_decref(recs[i]);
    }
    free(errs);
    free(recs);
    free(ids);
    free(already);
    free(lines);
    registry_actor_free(a);
    audit_clean();
}

/* reg_prep_line_end hands the drafts to the preparing thread only once all
 * are prepared: the last draft's refusal is in ERRS when it returns though
 * the batch never took it, and the records may be freed at once (ASan). */
static void test_prep_line_end_waits_for_preparation(void **state)
{
    enum { N = 200 };
    json_t *recs[N];
    struct err errs[N];
    struct reg_prep_line *l;
    (void)state;

    for (int i = 0; i < N; i++) {
        recs[i] = registry_record_example();
        errs[i] = (struct err)ERR_INIT;
    }
    json_object_set_new(json_object_get(recs[N - 1], "child"), "sex", json_string("unknown"));
    l = reg_prep_line_start(recs, N, errs);
    assert_non_null(l);
    assert_non_null(reg_prep_line_get(l, 0)->norm);
    reg_prep_line_end(l);
    for (int i = 0; i < N; i++)
        json_decref(recs[i]);
    assert_true(errs[N - 1].msg[0] != '\0');
    for (int i = 0; i < N - 1; i++)
        assert_true(errs[i].msg[0] == '\0');
}

/* A pooled line (the import's) prepares its drafts' jansson values,
 * canonical bytes and folded names in its arena, on its thread as on the
 * caller's (fewer drafts than start one):
 * the canonical bytes, hashes and folded names those of an unpooled line
 * for the same records; the lines of batches back to back, each freed
 * beside the next one's preparation, read and freed cleanly (ASan). */
static void test_prep_line_pooled_in_arena(void **state)
{
    enum { N = 200, FEW = 5, ROUNDS = 4 };
    json_t *recs[N];
    struct err errs[N], plain_errs[N];
    (void)state;

    for (int i = 0; i < N; i++) {
        recs[i] = prepak_record(i % 40, 18); /* its years run out past 40 */
        errs[i] = plain_errs[i] = (struct err)ERR_INIT;
    }
    for (int round = 0; round < ROUNDS; round++) {
        size_t n = round == 1 ? FEW : N;
        struct reg_prep_line *l = reg_prep_line_start_pooled(recs, n, errs);
        struct reg_prep_line *plain = reg_prep_line_start(recs, n, plain_errs);
        assert_non_null(l);
        assert_non_null(plain);
        for (size_t i = 0; i < n; i++) {
            const struct reg_draft_prep *p = reg_prep_line_get(l, i);
            const struct reg_draft_prep *q = reg_prep_line_get(plain, i);
            assert_non_null(p->norm);
            assert_true(json_equal(p->norm, q->norm));
            assert_int_equal(p->canon_rc, 0);
            assert_int_equal(p->data.len, q->data.len);
            assert_memory_equal(p->data.data, q->data.data, q->data.len);
            assert_string_equal(p->hash, q->hash);
            assert_true(p->folded && q->folded);
            assert_string_equal(buf_str(&p->keys.family), buf_str(&q->keys.family));
            assert_string_equal(buf_str(&p->keys.texts.names_ph),
                                buf_str(&q->keys.texts.names_ph));
        }
        /* every draft prepared (the thread's last write to the line is
         * before READY): its values were taken from the line's arena */
        assert_true(l->pooled);
        assert_non_null(l->arena.chunks);
        assert_non_null(l->scratch.data); /* the canonical bytes made there, then copied */
        assert_false(plain->pooled);
        assert_null(plain->arena.chunks);
        reg_prep_line_end(plain);
        reg_prep_line_end(l);
    }
    for (int i = 0; i < N; i++) {
        assert_true(errs[i].msg[0] == '\0');
        json_decref(recs[i]);
    }
}

/* Whether a thread of this process is named NAME (/proc/self/task/TID/comm),
 * waited for up to two seconds (the thread names itself once started). */
static bool thread_named(const char *name)
{
    for (int tries = 0; tries < 200; tries++) {
        DIR *d = opendir("/proc/self/task");
        struct dirent *e;
        bool found = false;
        assert_non_null(d);
        while (!found && (e = readdir(d)) != NULL) {
            char path[300], comm[32] = "";
            FILE *f;
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
            if ((f = fopen(path, "r")) == NULL)
                continue;
            if (fgets(comm, sizeof comm, f) != NULL)
                comm[strcspn(comm, "\n")] = '\0';
            fclose(f);
            found = strcmp(comm, name) == 0;
        }
        closedir(d);
        if (found)
            return true;
        usleep(10000);
    }
    return false;
}

/* The signing line's thread is named for top and perf (civreg-sign), as
 * the preparing line's and the checkpointer's are: a profile can then tell
 * it from the batch's own thread. */
static void test_sign_line_named(void **state)
{
    struct reg_sign_line *s;
    (void)state;

    s = reg_sign_line_start();
    assert_non_null(s);
    assert_true(thread_named("civreg-sign"));
    reg_sign_line_end(s);
}

/* An id met again (two processes of one office drawing the same counter in
 * the same millisecond, db_id_new): a row with the new record's id stored
 * just before its own (a temporary trigger on the draft's event) makes the
 * draft fail on the key, with a message that names it, and nothing of the
 * draft stays. */
static void test_draft_id_taken_fails_clearly(void **state)
{
    struct registry_actor *a = login("clerk-a", "a-krelc-tundra-ferns-61");
    struct err err = ERR_INIT;
    json_t *rec = registry_record_example();
    long long events = count_rows("events"), records = count_rows("birth_records");
    char *id = NULL;
    (void)state;

    json_object_set_new(json_object_get(rec, "child"), "family_name", json_string("Zusammenstoss"));
    assert_int_equal(sqlite3_exec(db_handle(db),
                                  "CREATE TEMP TRIGGER id_taken AFTER INSERT ON main.event_objects"
                                  " WHEN NEW.kind = 'record' AND NOT EXISTS (SELECT 1 FROM"
                                  " birth_records WHERE id = NEW.object_id) BEGIN INSERT INTO"
                                  " birth_records(id, office, status, version, created_at,"
                                  " updated_at, event_seq) VALUES (NEW.object_id, (SELECT code"
                                  " FROM offices LIMIT 1), 'draft', 1, 'x', 'x', NEW.seq); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(registry_record_draft(db, a, rec, &id, &err), -1);
    assert_int_equal(sqlite3_exec(db_handle(db), "DROP TRIGGER temp.id_taken", NULL, NULL, NULL),
                     SQLITE_OK);
    print_message("%s\n", err_msg(&err));
    assert_non_null(strstr(err_msg(&err), "storing the record"));
    assert_non_null(strstr(err_msg(&err), "UNIQUE constraint failed: birth_records.id"));
    assert_null(id);
    assert_int_equal(count_rows("events"), events);
    assert_int_equal(count_rows("birth_records"), records);
    /* the next draft draws another id and is stored */
    assert_int_equal(registry_record_draft(db, a, rec, &id, &err), 0);
    assert_int_equal(count_rows("birth_records"), records + 1);
    free(id);
    json_decref(rec);
    registry_actor_free(a);
    audit_clean();
}

CMOCKA_MAIN_WITH((.group_setup = setup, .group_teardown = teardown, .secret = 1),
                 test_four_eyes_read_failure_refuses, test_four_eyes_busy_refuses,
                 test_duplicate_gate_read_failure_refuses, test_witness_write_failure_closes,
                 test_import_batch_failure_after_write_undoes_batch,
                 test_import_batch_flags_duplicate_within_batch,
                 test_import_batch_prepared_same_as_serial,
                 test_import_batch_reads_log_size_once,
                 test_steps_prepared_same_as_serial,
                 test_prep_line_end_waits_for_preparation, test_prep_line_pooled_in_arena,
                 test_steps_failure_after_write_undoes_batch, test_steps_same_as_step_by_step,
                 test_steps_rescan_catches_later_duplicate, test_dup_rescan_needed,
                 test_steps_rescan_only_when_needed, test_steps_mismatch_rounds,
                 test_steps_held_index_rows_read_first, test_steps_drafted_head_from_batch,
                 test_batch_over_push_size_refused,
                 test_steps_one_head_per_batch, test_steps_gate_read_once_paired,
                 test_steps_uin_pool, test_steps_signed_on_line, test_steps_link_signed_on_line,
                 test_steps_counter_once,
                 test_steps_batch_not_spilled, test_import_signed_on_line,
                 test_import_batch_not_spilled, test_sign_line_named,
                 test_draft_id_taken_fails_clearly)
