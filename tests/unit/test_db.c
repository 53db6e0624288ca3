/* Unit tests for db/: open and pragmas, migrations, newer-schema refusal,
 * transactions, checks, data directory creation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/secret.h"
#include "db/datadir.h"
#include "db/db.h"
#include "db/db_int.h"
#include "db/sql.h"
#include "support/cmocka_main.h"
#include "support/support.h"

struct fixture {
    char *dir;
    char path[4096];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->dir = tmp_dir("db");
    snprintf(f->path, sizeof f->path, "%s/civreg.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tmp_remove(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static int pragma_int(struct db *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    assert_int_equal(sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_open_migrate(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    struct err e = ERR_INIT;
    int v = -1;

    assert_int_equal(db_open(f->path, 0, &db, &e), -1); /* missing, no CREATE */
    assert_non_null(strstr(err_msg(&e), "civreg init"));
    assert_int_equal(db_open(f->path, DB_OPEN_CREATE | DB_OPEN_MIGRATE, &db, &e), 0);
    assert_int_equal(db_schema_version(db, &v, &e), 0);
    assert_int_equal(v, db_schema_latest());
    assert_true(v >= 1);
    assert_int_equal(pragma_int(db, "PRAGMA foreign_keys"), 1);
    assert_int_equal(pragma_int(db, "PRAGMA synchronous"), 2); /* FULL */
    assert_true(pragma_int(db, "PRAGMA busy_timeout") >= 1000);
    db_close(db);
    /* Reopening applies nothing new and needs no MIGRATE flag. */
    assert_int_equal(db_open(f->path, 0, &db, &e), 0);
    db_close(db);
    db_close(NULL);
}

static int count_problems_cb_n;
static char last_problem[1024];
static void count_cb(void *ctx, const char *p)
{
    (void)ctx;
    count_problems_cb_n++;
    snprintf(last_problem, sizeof last_problem, "%s", p);
}

static void test_newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    struct err e = ERR_INIT;
    char sql[256];

    assert_int_equal(db_open(f->path, DB_OPEN_CREATE | DB_OPEN_MIGRATE, &db, &e), 0);
    snprintf(sql, sizeof sql,
             "INSERT INTO schema_migrations VALUES (%d, '9999_future.sql', 'x', '2030-01-01T00:00:00Z')",
             db_schema_latest() + 1);
    assert_int_equal(db_exec(db, sql, &e), 0);
    db_close(db);
    assert_int_equal(db_open(f->path, DB_OPEN_MIGRATE, &db, &e), -1);
    assert_null(db);
    assert_non_null(strstr(err_msg(&e), "newer than this civreg"));
    assert_non_null(strstr(err_msg(&e), "upgrade civreg"));
    /* db check still opens it and names the problem. */
    assert_int_equal(db_open(f->path, DB_OPEN_CHECK, &db, &e), 0);
    count_problems_cb_n = 0;
    assert_int_equal(db_check(db, count_cb, NULL, &e), 1);
    assert_non_null(strstr(last_problem, "newer than this civreg"));
    db_close(db);
}

static void test_check(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    struct err e = ERR_INIT;

    assert_int_equal(db_open(f->path, DB_OPEN_CREATE | DB_OPEN_MIGRATE, &db, &e), 0);
    count_problems_cb_n = 0;
    assert_int_equal(db_check(db, count_cb, NULL, &e), 0);
    assert_int_equal(count_problems_cb_n, 0);
    /* An altered migration record is reported. */
    assert_int_equal(db_exec(db, "UPDATE schema_migrations SET sha256='00' WHERE version=1", &e), 0);
    assert_int_equal(db_check(db, count_cb, NULL, &e), 1);
    assert_non_null(strstr(last_problem, "other content"));
    /* A dangling foreign key is reported. */
    assert_int_equal(db_exec(db, "CREATE TABLE child(o TEXT REFERENCES offices(code));"
                                 "PRAGMA foreign_keys=OFF; INSERT INTO child VALUES('ZZ');"
                                 "PRAGMA foreign_keys=ON;", &e), 0);
    count_problems_cb_n = 0;
    assert_int_equal(db_check(db, count_cb, NULL, &e), 2);
    db_close(db);
}

static void test_random_bytes_not_a_db(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    struct err e = ERR_INIT;
    unsigned char junk[8192];

    secret_random(junk, sizeof junk);
    assert_int_equal(file_write(f->path, junk, sizeof junk), 0);
    assert_int_equal(db_open(f->path, DB_OPEN_CHECK, &db, &e), -1);
    assert_non_null(strstr(err_msg(&e), "not a database"));
    assert_int_equal(db_open(f->path, DB_OPEN_MIGRATE, &db, &e), -1);
}

static int insert_office(struct db *db, void *arg, struct err *err)
{
    const char *code = arg;
    sqlite3_stmt *st = NULL;
    int rc = 0;
    sqlite3_prepare_v2(db_handle(db),
                       "INSERT INTO offices(code,name,country,created_at) VALUES (?1,'n','UTO','t')",
                       -1, &st, NULL);
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = err_set(err, "insert failed: %s", sqlite3_errmsg(db_handle(db)));
    sqlite3_finalize(st);
    return rc;
}

static int count_offices(struct db *db)
{
    return pragma_int(db, "SELECT count(*) FROM offices");
}

static void test_transactions(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    struct err e = ERR_INIT;

    assert_int_equal(db_open(f->path, DB_OPEN_CREATE | DB_OPEN_MIGRATE, &db, &e), 0);
    assert_int_equal(db_tx_run(db, insert_office, (void *)"AA", &e), 0);
    assert_int_equal(count_offices(db), 1);
    /* Failing body: rolled back; the duplicate key is reported. */
    assert_int_equal(db_tx_run(db, insert_office, (void *)"AA", &e), -1);
    assert_non_null(strstr(err_msg(&e), "insert failed"));
    /* Nested savepoint rolled back, outer committed. */
    assert_int_equal(db_tx_begin(db, &e), 0);
    assert_int_equal(insert_office(db, (void *)"BB", &e), 0);
    assert_int_equal(db_tx_begin(db, &e), 0);
    assert_int_equal(insert_office(db, (void *)"CC", &e), 0);
    db_tx_rollback(db);
    assert_int_equal(db_tx_commit(db, &e), 0);
    assert_int_equal(count_offices(db), 2);
    /* Outer rollback drops everything. */
    assert_int_equal(db_tx_begin(db, &e), 0);
    assert_int_equal(insert_office(db, (void *)"DD", &e), 0);
    db_tx_rollback(db);
    assert_int_equal(count_offices(db), 2);
    /* Settings. */
    char *v = NULL;
    assert_int_equal(db_setting_get(db, "country", &v, &e), 1);
    assert_int_equal(db_setting_set(db, "country", "UTO", &e), 0);
    assert_int_equal(db_setting_get(db, "country", &v, &e), 0);
    assert_string_equal(v, "UTO");
    free(v);
    db_close(db);
}

/* The connection's statement cache: one preparation per SQL text, reset and
 * unbound when given back, never shared while checked out, bounded. */
/* The cached statement for SQL gives one row whose first column is WANT;
 * it goes back to the cache */
static void assert_cached_int(struct db *db, const char *sql, int want)
{
    sqlite3_stmt *st = NULL;
    struct err e = ERR_INIT;
    assert_int_equal(db_stmt_cached(db, sql, &st, &e), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), want);
    db_stmt_release(db, st);
}

static void test_stmt_cache(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    struct err e = ERR_INIT;
    sqlite3_stmt *a = NULL, *b = NULL, *c = NULL;
    int rows;

    assert_int_equal(db_open(f->path, DB_OPEN_CREATE | DB_OPEN_MIGRATE, &db, &e), 0);
    assert_int_equal(db_exec(db,
                             "CREATE TABLE t(v TEXT); INSERT INTO t VALUES ('x'), ('y'), ('z');",
                             &e),
                     0);
    /* prepared once: the same statement comes back */
    assert_int_equal(db_stmt_cached(db, "SELECT v FROM t ORDER BY v", &a, &e), 0);
    assert_int_equal(sqlite3_step(a), SQLITE_ROW);
    db_stmt_release(db, a);
    assert_int_equal(db_stmt_cached(db, "SELECT v FROM t ORDER BY v", &b, &e), 0);
    assert_ptr_equal(a, b);
    /* the same statement object, not a new one at the same address: its run
     * counter (kept across resets) has counted the first use */
    assert_int_equal(sqlite3_step(b), SQLITE_ROW);
    assert_int_equal(sqlite3_stmt_status(b, SQLITE_STMTSTATUS_RUN, 0), 2);
    sqlite3_reset(b);
    /* released mid-iteration: it starts again from the first row */
    for (rows = 0; sqlite3_step(b) == SQLITE_ROW; rows++)
        ;
    assert_int_equal(rows, 3);
    /* checked out: asking again gives another statement, both iterate on
     * their own (a caller nested inside another's loop) */
    sqlite3_reset(b);
    assert_int_equal(sqlite3_step(b), SQLITE_ROW);
    assert_int_equal(db_stmt_cached(db, "SELECT v FROM t ORDER BY v", &c, &e), 0);
    assert_ptr_not_equal(b, c);
    for (rows = 0; sqlite3_step(c) == SQLITE_ROW; rows++)
        ;
    assert_int_equal(rows, 3);
    assert_string_equal((const char *)sqlite3_column_text(b, 0), "x");
    assert_int_equal(sqlite3_step(b), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(b, 0), "y");
    db_stmt_release(db, c); /* the extra one is finalized (LSan would see it) */
    db_stmt_release(db, b);
    /* bindings are cleared on release */
    assert_int_equal(db_stmt_cached(db, "SELECT ?1", &a, &e), 0);
    assert_int_equal(sqlite3_bind_text(a, 1, "bound", -1, SQLITE_STATIC), SQLITE_OK);
    assert_int_equal(sqlite3_step(a), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(a, 0), "bound");
    db_stmt_release(db, a);
    assert_int_equal(db_stmt_cached(db, "SELECT ?1", &b, &e), 0);
    assert_ptr_equal(a, b);
    assert_int_equal(sqlite3_step(b), SQLITE_ROW);
    assert_int_equal(sqlite3_column_type(b, 0), SQLITE_NULL);
    db_stmt_release(db, b);
    /* SQL that does not prepare: an error, nothing cached */
    a = (sqlite3_stmt *)&e;
    assert_int_equal(db_stmt_cached(db, "SELEC nothing", &a, &e), -1);
    assert_null(a);
    assert_non_null(strstr(err_msg(&e), "preparing a statement"));
    /* a TEMP table shadowing a cached statement's table, after a clear */
    assert_cached_int(db, "SELECT count(*) FROM t", 3);
    assert_int_equal(db_exec(db, "CREATE TEMP TABLE t(v TEXT)", &e), 0);
    db_stmt_cache_clear(db);
    assert_cached_int(db, "SELECT count(*) FROM t", 0);
    assert_int_equal(db_exec(db, "DROP TABLE temp.t", &e), 0);
    db_stmt_cache_clear(db);
    /* found by the address of its text, then compared as text: the same
     * SQL at another address is the same statement, other SQL at the same
     * address (a buffer reused) is not */
    {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", "SELECT count(*) FROM t");
        assert_int_equal(db_stmt_cached(db, "SELECT count(*) FROM t", &a, &e), 0);
        db_stmt_release(db, a);
        assert_int_equal(db_stmt_cached(db, buf, &b, &e), 0);
        assert_ptr_equal(a, b);
        db_stmt_release(db, b);
        assert_cached_int(db, buf, 3);
        snprintf(buf, sizeof buf, "%s", "SELECT 40 + count(*) FROM t");
        assert_cached_int(db, buf, 43);
        assert_int_equal(db_stmt_cached(db, buf, &c, &e), 0);
        assert_ptr_not_equal(a, c);
        db_stmt_release(db, c);
        assert_cached_int(db, "SELECT count(*) FROM t", 3);
    }
    /* more texts than the cache holds: every one still works */
    for (int i = 0; i < 300; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT %d + count(*) FROM t", i);
        assert_cached_int(db, sql, i + 3);
    }
    db_stmt_release(db, NULL);
    db_close(db); /* finalizes what is cached (LSan would see a leak) */
}

static void test_datadir(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    struct datadir *dd = NULL;
    struct datadir_init_opts o = { "D", "BER01", "Standesamt Berlin-Mitte" };
    char dir[4096], p[4200];
    struct stat st;

    snprintf(dir, sizeof dir, "%s/new", f->dir);
    assert_int_equal(datadir_init(dir, &o, &e), 0);
    snprintf(p, sizeof p, "%s/keys", dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(datadir_open(dir, &dd, &e), 0);
    assert_string_equal(conf_get(dd->conf, "office", NULL), "BER01");
    assert_string_equal(conf_get(dd->conf, "country", NULL), "D");
    datadir_free(dd);
    /* Refused again, and for a non-empty folder. */
    assert_int_equal(datadir_init(dir, &o, &e), -1);
    assert_non_null(strstr(err_msg(&e), "already holds"));
    assert_int_equal(datadir_init(f->dir, &o, &e), -1); /* holds "new" */
    assert_non_null(strstr(err_msg(&e), "not empty"));
    /* Validation. */
    struct datadir_init_opts bad = { "utopia", NULL, NULL };
    snprintf(p, sizeof p, "%s/other", f->dir);
    assert_int_equal(datadir_init(p, &bad, &e), -1);
    assert_non_null(strstr(err_msg(&e), "country"));
    assert_int_equal(access(p, F_OK), -1); /* nothing created */
    struct datadir_init_opts badoff = { NULL, "x;DROP", NULL };
    assert_int_equal(datadir_init(p, &badoff, &e), -1);
    assert_int_equal(datadir_open(p, &dd, &e), -1);
    assert_non_null(strstr(err_msg(&e), "civreg init"));
}

/* db_id_new: ids of one process only grow, from any thread, and keep the
 * old shape ("<OFFICE>-<KIND>-" and 20 lowercase hex digits). */
#define ID_THREADS 4
#define ID_EACH 5000

static void *id_thread(void *arg)
{
    char (*ids)[DB_ID_MAX] = arg;

    for (int i = 0; i < ID_EACH; i++)
        db_id_new("HQ", 'R', ids[i]);
    return NULL;
}

static int id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static uint64_t id_ms(const char *id)
{
    char ms[13];

    memcpy(ms, id + 5, 12);
    ms[12] = '\0';
    return strtoull(ms, NULL, 16);
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void test_ids_increase(void **state)
{
    char (*ids)[DB_ID_MAX] = calloc(ID_THREADS * ID_EACH, DB_ID_MAX);
    pthread_t th[ID_THREADS];
    char last[DB_ID_MAX];
    uint64_t t0 = now_ms(), t1;

    (void)state;
    assert_non_null(ids);
    for (int t = 0; t < ID_THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, id_thread, ids + t * ID_EACH), 0);
    for (int t = 0; t < ID_THREADS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    db_id_new("HQ", 'R', last);
    t1 = now_ms();
    for (int i = 0; i < ID_THREADS * ID_EACH; i++) {
        const char *id = ids[i];
        assert_int_equal(strlen(id), 5 + 20);
        assert_memory_equal(id, "HQ-R-", 5);
        assert_int_equal(strspn(id + 5, "0123456789abcdef"), 20);
        /* the first 12 hex digits: the time it was made, in milliseconds */
        assert_true(id_ms(id) + 1000 >= t0 && id_ms(id) <= t1 + 1000);
        /* each thread's ids in the order made, and every one below the
         * id made after all of them */
        if (i % ID_EACH)
            assert_true(strcmp(ids[i - 1], id) < 0);
        assert_true(strcmp(id, last) < 0);
    }
    qsort(ids, ID_THREADS * ID_EACH, DB_ID_MAX, id_cmp);
    for (int i = 1; i < ID_THREADS * ID_EACH; i++)
        assert_true(strcmp(ids[i - 1], ids[i]) < 0); /* unique */
    free(ids);
    db_id_new(NULL, 'D', last);
    assert_memory_equal(last, "XX-D-", 5);
}

static uint32_t fixed_random(void)
{
    return 0xfffffffeu;
}

/* The clock read back: the ids count on from the last one, never lower. */
static void test_id_clock_back(void **state)
{
    static const struct {
        uint64_t now;
        const char *want;
    } steps[] = {
        { 1000, "0000000003e8fffffffe" }, /* a new millisecond: the random counter */
        { 1000, "0000000003e8ffffffff" }, /* the same one: counted up */
        { 1000, "0000000003e900000000" }, /* the counter's carry into the time */
        { 400, "0000000003e900000001" },  /* the clock stepped back */
        { 1001, "0000000003e900000002" }, /* caught up, not past */
        { 1002, "0000000003eafffffffe" }, /* a later millisecond */
        { 0, "0000000003eaffffffff" },
    };
    struct db_id_clock last = { 0, 0 };
    char hex[DB_ID_HEX + 1], prev[DB_ID_HEX + 1] = "";

    (void)state;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        db_id_next(&last, steps[i].now, fixed_random, hex);
        assert_string_equal(hex, steps[i].want);
        assert_true(strcmp(prev, hex) < 0);
        memcpy(prev, hex, sizeof hex);
    }
    /* past 48 bits of milliseconds (year 10889): held at the last one */
    last = (struct db_id_clock){ 0, 0 };
    db_id_next(&last, UINT64_C(1) << 50, fixed_random, hex);
    assert_string_equal(hex, "fffffffffffffffffffe");
}

/* How many of this process's open files are SQLite temporary files
 * (etilqs_*, unlinked once opened). */
static int temp_files_open(void)
{
    char path[64], target[4096];
    int n = 0;

    for (int fd = 0; fd < 4096; fd++) {
        ssize_t len;
        (void)snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        len = readlink(path, target, sizeof target - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        if (strstr(target, "etilqs_") != NULL)
            n++;
    }
    return n;
}

/* A statement that journals more than SQLite's default 64 KiB inside a
 * transaction (an UPDATE of a column with a foreign key and a UNIQUE
 * index, as the registration's of birth_records) keeps its journal in
 * memory (DB_STMT_JOURNAL_MEM): no temporary file, which would otherwise
 * stay open, and be written, for the rest of the transaction. */
static void test_stmt_journal_in_memory(void **state)
{
    struct fixture *f = *state;
    struct db *db = NULL;
    struct err e = ERR_INIT;
    sqlite3 *h;
    int before;

    if (access("/proc/self/fd", R_OK) != 0)
        skip();
    assert_int_equal(db_open(f->path, DB_OPEN_CREATE | DB_OPEN_MIGRATE, &db, &e), 0);
    h = db_handle(db);
    assert_int_equal(sqlite3_exec(h,
                                  "CREATE TABLE jp(id INTEGER PRIMARY KEY);"
                                  "INSERT INTO jp(id) VALUES (1), (2);"
                                  "CREATE TABLE jt(id TEXT PRIMARY KEY, u TEXT UNIQUE,"
                                  " p INTEGER NOT NULL REFERENCES jp(id), pad TEXT NOT NULL);"
                                  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                                  " WHERE i < 400) INSERT INTO jt SELECT 'r' || i, NULL, 1,"
                                  " zeroblob(900) FROM n;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    before = temp_files_open();
    assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    /* about 100 pages of table and indexes journaled: 400 KiB */
    assert_int_equal(sqlite3_exec(h, "UPDATE jt SET u = id, p = 2", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(temp_files_open(), before);
    assert_int_equal(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(pragma_int(db, "SELECT count(*) FROM jt WHERE p = 2 AND u = id"), 400);
    db_close(db);
}

CMOCKA_MAIN_WITH((.group = "db", .setup = setup, .teardown = teardown, .secret = 1),
                 test_open_migrate, test_newer_schema_refused, test_check,
                 test_random_bytes_not_a_db, test_transactions, test_datadir, test_stmt_cache,
                 test_ids_increase, test_id_clock_back, test_stmt_journal_in_memory)
