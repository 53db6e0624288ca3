/* civreg db: group commit (see group.h). One writer thread, a bounded
 * queue of writes, one transaction and one commit per group. */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/timeutil.h"
#include "db_int.h"
#include "group.h"

/* A transaction that lost its write lock or was rolled back by SQLite is
 * tried again this many times before its writes fail. */
#define GROUP_RETRIES 5

enum job_state { JOB_PENDING, JOB_RAN, JOB_FAILED };

/* One write, on its caller's stack while it waits. */
struct job {
    db_group_fn fn;
    db_group_after_fn after;
    void *arg;
    enum job_state state;
    sem_t done; /* posted by the writer once STATE is final */
    struct err err;
    struct job *next;
};

struct db_group {
    struct db *db; /* used only by the writer thread */
    pthread_t writer;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t work;  /* a write was queued, or stop */
    pthread_cond_t room;  /* the queue has room again */
    struct job *head, **tail;
    unsigned queued, queue_max, wait_ms;
    bool stop;
    unsigned long writes, commits;
    int wal_frames; /* frames in the WAL after the last commit (writer only) */
    /* the WAL copied back on a thread of its own (checkpointer.c), asked
     * for by the writer after a group's callers are woken */
    struct db_checkpointer *ckpt;
};

/* Run one write of the open transaction in its own savepoint. */
static void run_job(struct db *db, struct job *j)
{
    if (db_tx_begin(db, &j->err) != 0) {
        j->state = JOB_FAILED;
        return;
    }
    if (j->fn(db, j->arg, &j->err) != 0) {
        db_tx_rollback(db);
        j->state = JOB_FAILED;
        return;
    }
    j->state = db_tx_commit(db, &j->err) == 0 ? JOB_RAN : JOB_FAILED;
}

/* Writes that had run go back to pending: their transaction is gone. */
static void reset_ran(struct job *list)
{
    for (struct job *j = list; j != NULL; j = j->next)
        if (j->state == JOB_RAN)
            j->state = JOB_PENDING;
}

static void fail_pending(struct job *list, const struct err *why)
{
    for (struct job *j = list; j != NULL; j = j->next)
        if (j->state == JOB_PENDING || j->state == JOB_RAN) {
            j->err = *why;
            j->state = JOB_FAILED;
        }
}

static void pause_before_retry(void)
{
    struct timespec ts = { 0, 5 * 1000000L };
    nanosleep(&ts, NULL);
}

/* Each distinct AFTER once, with the arg of the last write that named it. */
static void run_after(struct db *db, struct job *list)
{
    for (struct job *j = list; j != NULL; j = j->next) {
        bool later = false;
        if (j->state != JOB_RAN || j->after == NULL)
            continue;
        for (struct job *k = j->next; k != NULL && !later; k = k->next)
            later = k->state == JOB_RAN && k->after == j->after;
        if (!later)
            j->after(db, j->arg);
    }
}

/* One group: every pending write of LIST in one transaction. A write that
 * fails is rolled back to its savepoint and the others go on; when SQLite
 * itself rolled the whole transaction back (I/O error, interrupt) or the
 * commit failed, the writes that had run are run again in a new one. */
static void run_group(struct db_group *g, struct job *list, unsigned long *runs,
                      unsigned long *commits)
{
    struct err err = ERR_INIT;

    for (int attempt = 0;; attempt++) {
        bool broken = false;

        if (db_tx_begin(g->db, &err) != 0) {
            if (attempt < GROUP_RETRIES) {
                pause_before_retry();
                continue;
            }
            fail_pending(list, &err);
            return;
        }
        for (struct job *j = list; j != NULL && !broken; j = j->next) {
            if (j->state != JOB_PENDING)
                continue;
            run_job(g->db, j);
            (*runs)++;
            broken = db_tx_broken(g->db);
        }
        if (broken) {
            db_tx_rollback(g->db);
            reset_ran(list);
            err_setk(&err, ERR_BUSY, "db: a group of writes was rolled back");
        } else if (db_tx_commit(g->db, &err) == 0) {
            (*commits)++;
            run_after(g->db, list);
            return;
        } else {
            reset_ran(list);
        }
        if (attempt >= GROUP_RETRIES) {
            fail_pending(list, &err);
            return;
        }
        log_debug("db: group of writes rolled back, retrying (%d)", attempt + 1);
        pause_before_retry();
    }
}

/* SQLite's WAL hook on the writer's connection (installing it turns the
 * automatic checkpoint off): note the WAL's size after each commit. */
static int wal_committed(void *arg, sqlite3 *h, const char *schema, int frames)
{
    (void)h;
    (void)schema;
    ((struct db_group *)arg)->wal_frames = frames;
    return SQLITE_OK;
}

static void *writer_main(void *p)
{
    struct db_group *g = p;

    (void)pthread_setname_np(pthread_self(), "civreg-writer"); /* for top and perf */
    pthread_mutex_lock(&g->lock);
    for (;;) {
        struct job *list;
        unsigned long runs = 0, commits = 0;

        while (g->head == NULL && !g->stop)
            pthread_cond_wait(&g->work, &g->lock);
        if (g->head == NULL)
            break;
        list = g->head;
        g->head = NULL;
        g->tail = &g->head;
        g->queued = 0;
        pthread_cond_broadcast(&g->room);
        pthread_mutex_unlock(&g->lock);

        run_group(g, list, &runs, &commits);

        pthread_mutex_lock(&g->lock);
        g->writes += runs;
        g->commits += commits;
        pthread_mutex_unlock(&g->lock);
        /* Each caller woken alone; J is its caller's again once posted. */
        for (struct job *j = list, *next; j != NULL; j = next) {
            next = j->next;
            sem_post(&j->done);
        }
        /* the checkpoint SQLite would have run inside the commit, asked
         * for only now: the callers do not wait for it */
        db_checkpointer_committed(g->ckpt, g->db, g->wal_frames);
        pthread_mutex_lock(&g->lock);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

int db_group_new(struct db *db, unsigned queue_max, unsigned wait_ms, struct db_group **out,
                 struct err *err)
{
    struct db_group *g;
    sigset_t all, old;
    int e;

    *out = NULL;
    g = calloc(1, sizeof *g);
    if (g == NULL) {
        db_close(db);
        return err_setk(err, ERR_INTERNAL, "db: group commit: out of memory");
    }
    g->db = db;
    (void)sqlite3_wal_hook(db_handle(db), wal_committed, g);
    g->tail = &g->head;
    g->queue_max = queue_max > 0 ? queue_max : 1;
    g->wait_ms = wait_ms;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->work, NULL);
    pthread_cond_init(&g->room, NULL);
    /* The writer starts with every signal blocked: signals are for the
     * process's own threads (serve takes SIGTERM in sigtimedwait), and one
     * delivered to the writer would end the process uncleanly. */
    sigfillset(&all);
    (void)pthread_sigmask(SIG_BLOCK, &all, &old);
    e = pthread_create(&g->writer, NULL, writer_main, g);
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        db_group_free(g);
        return err_setk(err, ERR_INTERNAL, "db: group commit: cannot start the writer: %s",
                        strerror(e));
    }
    g->started = true;
    g->ckpt = db_checkpointer_new(db_path(db));
    *out = g;
    return 0;
}

int db_group_run(struct db_group *g, db_group_fn fn, db_group_after_fn after, void *arg,
                 struct err *err)
{
    struct job j = { .fn = fn, .after = after, .arg = arg, .state = JOB_PENDING };
    struct timespec until = time_after_ms(CLOCK_REALTIME, g->wait_ms);
    int rc = -1;

    pthread_mutex_lock(&g->lock);
    while (g->queued >= g->queue_max && !g->stop)
        if (pthread_cond_timedwait(&g->room, &g->lock, &until) == ETIMEDOUT)
            break;
    if (g->queued >= g->queue_max || g->stop) {
        pthread_mutex_unlock(&g->lock);
        return err_setk(err, ERR_BUSY, "db: too many writes waiting (%u), try again later",
                        g->queue_max);
    }
    if (sem_init(&j.done, 0, 0) != 0) {
        pthread_mutex_unlock(&g->lock);
        return err_setk(err, ERR_INTERNAL, "db: group commit: %s", strerror(errno));
    }
    *g->tail = &j;
    g->tail = &j.next;
    g->queued++;
    pthread_cond_signal(&g->work);
    pthread_mutex_unlock(&g->lock);
    while (sem_wait(&j.done) != 0)
        ; /* EINTR */
    if (j.state == JOB_RAN)
        rc = 0;
    else
        *err = j.err;
    sem_destroy(&j.done);
    return rc;
}

void db_group_stats(struct db_group *g, unsigned long *writes, unsigned long *commits)
{
    pthread_mutex_lock(&g->lock);
    *writes = g->writes;
    *commits = g->commits;
    pthread_mutex_unlock(&g->lock);
}

unsigned long db_group_checkpoints(struct db_group *g)
{
    return db_checkpointer_count(g->ckpt);
}

void db_group_free(struct db_group *g)
{
    if (g == NULL)
        return;
    if (g->started) {
        pthread_mutex_lock(&g->lock);
        g->stop = true;
        pthread_cond_broadcast(&g->work);
        pthread_cond_broadcast(&g->room);
        pthread_mutex_unlock(&g->lock);
        pthread_join(g->writer, NULL);
    }
    db_checkpointer_free(g->ckpt);
    pthread_cond_destroy(&g->work);
    pthread_cond_destroy(&g->room);
    pthread_mutex_destroy(&g->lock);
    db_close(g->db);
    free(g);
}
