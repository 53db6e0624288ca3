/* Unit tests for db/group.c, the group commit: concurrent writers share
 * commits and each gets its own result; a write that fails, or one that
 * makes SQLite roll the whole transaction back, does not lose or fail the
 * others of its group; a full queue refuses with ERR_BUSY. */
#include <pthread.h>
#include <semaphore.h>
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

#include "db/db.h"
#include "db/group.h"
#include "support/cmocka_main.h"
#include "support/support.h"
#include "support/tmpdb.h"

#define WRITERS 16
#define EACH 40

struct fixture {
    char *dir;
    char path[4096];
    struct db *reader; /* the test's own connection, to count rows */
    struct db_group *g;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct err err = ERR_INIT;
    struct db *w = NULL;

    if (f == NULL || tmp_db_open("dbgroup", "civreg.db", &f->dir, &f->reader) != 0)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/civreg.db", f->dir);
    if (db_exec(f->reader, "CREATE TABLE t(who INTEGER, n INTEGER, UNIQUE(who, n))", &err) != 0 ||
        db_open(f->path, 0, &w, &err) != 0 || db_group_new(w, 64, 2000, &f->g, &err) != 0) {
        print_error("%s\n", err_msg(&err));
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    db_group_free(f->g);
    tmp_db_close(&f->dir, &f->reader);
    free(f);
    return 0;
}

static long long count_rows(struct db *db, const char *where)
{
    char sql[200];
    sqlite3_stmt *st = NULL;
    long long n = -1;

    snprintf(sql, sizeof sql, "SELECT count(*) FROM t WHERE %s", where);
    assert_int_equal(sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* A write: one row (WHO, N); FAIL makes it fail after writing it, BREAK
 * makes SQLite roll the whole transaction back first, GATE (when set) is
 * waited on inside the write, holding the writer. */
struct row {
    int who, n;
    bool fail, brk;
    sem_t *gate, *inside;
    int rc;
    struct err err;
    struct db_group *g;
};

static int put_row(struct db *db, void *arg, struct err *err)
{
    struct row *r = arg;
    sqlite3_stmt *st = NULL;
    int rc;

    if (r->inside != NULL)
        sem_post(r->inside);
    if (r->gate != NULL)
        sem_wait(r->gate);
    if (sqlite3_prepare_v2(db_handle(db), "INSERT INTO t(who, n) VALUES (?1, ?2)", -1, &st,
                           NULL) != SQLITE_OK)
        return err_set(err, "test: prepare");
    sqlite3_bind_int(st, 1, r->who);
    sqlite3_bind_int(st, 2, r->n);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return err_set(err, "test: insert %d/%d: %s", r->who, r->n, sqlite3_errmsg(db_handle(db)));
    if (r->brk)
        (void)sqlite3_exec(db_handle(db), "ROLLBACK", NULL, NULL, NULL);
    if (r->fail || r->brk)
        return err_set(err, "test: write %d/%d refused", r->who, r->n);
    return 0;
}

static void *run_row(void *p)
{
    struct row *r = p;

    r->rc = db_group_run(r->g, put_row, NULL, r, &r->err);
    return NULL;
}

static void *many_rows(void *p)
{
    struct row *r = p;

    for (int i = 0; i < EACH; i++) {
        struct row one = { .who = r->who, .n = i, .g = r->g };
        if (db_group_run(r->g, put_row, NULL, &one, &one.err) != 0) {
            r->rc = -1;
            r->err = one.err;
        }
    }
    return NULL;
}

/* 16 threads, 40 writes each: every write durable once its call returns,
 * and fewer commits than writes. */
static void test_concurrent_writers(void **state)
{
    struct fixture *f = *state;
    pthread_t t[WRITERS];
    struct row r[WRITERS];
    unsigned long writes0, commits0, writes, commits;

    db_group_stats(f->g, &writes0, &commits0);
    for (int i = 0; i < WRITERS; i++) {
        r[i] = (struct row){ .who = 100 + i, .g = f->g };
        assert_int_equal(pthread_create(&t[i], NULL, many_rows, &r[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(r[i].rc, 0);
    }
    assert_int_equal(count_rows(f->reader, "who >= 100 AND who < 200"), WRITERS * EACH);
    db_group_stats(f->g, &writes, &commits);
    assert_int_equal(writes - writes0, WRITERS * EACH);
    printf("%d writes in %lu commits\n", WRITERS * EACH, commits - commits0);
    assert_true(commits - commits0 < writes - writes0);
}

/* One group of five writes queued while the writer is held by a first
 * one: the third fails after writing its row (the row is rolled back to its
 * savepoint, its caller gets its message), the fourth makes SQLite roll
 * the whole transaction back (the writes run before it are run again);
 * every other write commits and succeeds. */
static void test_failure_in_group(void **state)
{
    struct fixture *f = *state;
    sem_t gate, inside;
    struct row first = { .who = 200, .n = 0, .g = f->g }, r[5];
    pthread_t t0, t[5];
    unsigned long writes0, commits0, writes, commits;

    sem_init(&gate, 0, 0);
    sem_init(&inside, 0, 0);
    first.gate = &gate;
    first.inside = &inside;
    assert_int_equal(pthread_create(&t0, NULL, run_row, &first), 0);
    sem_wait(&inside); /* the writer is now inside FIRST */
    db_group_stats(f->g, &writes0, &commits0);
    for (int i = 0; i < 5; i++) {
        r[i] = (struct row){ .who = 201, .n = i, .g = f->g, .fail = i == 2, .brk = i == 3 };
        assert_int_equal(pthread_create(&t[i], NULL, run_row, &r[i]), 0);
    }
    usleep(500 * 1000); /* let the five queue behind FIRST */
    sem_post(&gate);
    pthread_join(t0, NULL);
    assert_int_equal(first.rc, 0);
    for (int i = 0; i < 5; i++) {
        pthread_join(t[i], NULL);
        if (i == 2 || i == 3) {
            assert_int_equal(r[i].rc, -1);
            assert_non_null(strstr(err_msg(&r[i].err), "refused"));
        } else {
            assert_int_equal(r[i].rc, 0);
        }
    }
    assert_int_equal(count_rows(f->reader, "who = 200"), 1);
    assert_int_equal(count_rows(f->reader, "who = 201 AND n IN (0, 1, 4)"), 3);
    assert_int_equal(count_rows(f->reader, "who = 201 AND n IN (2, 3)"), 0);
    db_group_stats(f->g, &writes, &commits);
    /* FIRST's commit (maybe counted before writes0), then the five in one
     * group: rolled back once at the fourth, the three others committed in
     * one transaction. */
    assert_true(commits - commits0 <= 2);
    sem_destroy(&gate);
    sem_destroy(&inside);
}

/* A queue of one, the writer held: the second caller waits its 2 s for
 * room and is refused with ERR_BUSY; nothing of it is written. */
static void test_queue_full(void **state)
{
    struct fixture *f = *state;
    struct err err = ERR_INIT;
    struct db *w = NULL;
    struct db_group *g = NULL;
    sem_t gate, inside;
    struct row first = { .who = 300, .n = 0 }, queued = { .who = 300, .n = 1 },
               over = { .who = 300, .n = 2 };
    pthread_t t0, t1;

    assert_int_equal(db_open(f->path, 0, &w, &err), 0);
    assert_int_equal(db_group_new(w, 1, 300, &g, &err), 0);
    first.g = queued.g = over.g = g;
    sem_init(&gate, 0, 0);
    sem_init(&inside, 0, 0);
    first.gate = &gate;
    first.inside = &inside;
    assert_int_equal(pthread_create(&t0, NULL, run_row, &first), 0);
    sem_wait(&inside);
    assert_int_equal(pthread_create(&t1, NULL, run_row, &queued), 0);
    usleep(100 * 1000);
    assert_int_equal(db_group_run(g, put_row, NULL, &over, &over.err), -1);
    assert_int_equal(over.err.kind, ERR_BUSY);
    sem_post(&gate);
    pthread_join(t0, NULL);
    pthread_join(t1, NULL);
    assert_int_equal(first.rc, 0);
    assert_int_equal(queued.rc, 0);
    db_group_free(g);
    assert_int_equal(count_rows(f->reader, "who = 300"), 2);
    sem_destroy(&gate);
    sem_destroy(&inside);
}

/* A write of about 6 MB (more than the 1,000 WAL frames of a checkpoint). */
static int put_blob(struct db *db, void *arg, struct err *err)
{
    (void)arg;
    return db_exec(db, "INSERT INTO big(b) VALUES (randomblob(6000000))", err);
}

/* Once a group leaves more than 1,000 frames in the WAL, the group's
 * checkpointer thread copies them into the database file: the file grows
 * to hold the blob while the writer is free for the next group. */
static void test_checkpointer(void **state)
{
    struct fixture *f = *state;
    struct err err = ERR_INIT;
    struct stat sb;
    unsigned long before = db_group_checkpoints(f->g);

    assert_int_equal(db_exec(f->reader, "CREATE TABLE big(b BLOB)", &err), 0);
    assert_int_equal(db_group_run(f->g, put_blob, NULL, NULL, &err), 0);
    for (int i = 0; i < 200 && db_group_checkpoints(f->g) == before; i++)
        usleep(50 * 1000);
    assert_true(db_group_checkpoints(f->g) > before);
    assert_int_equal(stat(f->path, &sb), 0);
    assert_true(sb.st_size > 6000000);
}

/* The same checkpointer beside a plain connection (db_checkpoint_beside,
 * what the import batch asks for): a transaction that leaves more than
 * 1,000 frames in the WAL is copied into the database file by the thread,
 * not by the commit (the connection's automatic checkpoint is off). */
static void test_checkpoint_beside(void **state)
{
    struct fixture *f = *state;
    struct err err = ERR_INIT;
    struct db *w = NULL;
    struct stat sb;

    assert_int_equal(db_open(f->path, 0, &w, &err), 0);
    assert_int_equal(db_checkpoint_beside(w, &err), 0);
    assert_int_equal(db_checkpoint_beside(w, &err), 0); /* a second call: the same thread */
    assert_int_equal(db_checkpoints_beside(w), 0);
    assert_int_equal(db_tx_run(w, put_blob, NULL, &err), 0);
    for (int i = 0; i < 200 && db_checkpoints_beside(w) == 0; i++)
        usleep(50 * 1000);
    assert_true(db_checkpoints_beside(w) > 0);
    assert_int_equal(stat(f->path, &sb), 0);
    assert_true(sb.st_size > 12000000); /* this blob and test_checkpointer's */
    db_close(w);
}

CMOCKA_MAIN_WITH((.group = "db_group", .group_setup = setup, .group_teardown = teardown),
                 test_concurrent_writers, test_failure_in_group, test_queue_full,
                 test_checkpointer, test_checkpoint_beside)
