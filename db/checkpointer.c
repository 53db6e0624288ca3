/* civreg db: the WAL copied back into the database beside the writer (see
 * db_int.h): a thread with a connection of its own runs the passive
 * checkpoints a writing connection would otherwise run inside its commits.
 * Shared by the group commit's writer (group.c) and by any connection that
 * asks for it (db_checkpoint_beside: the import batch). */
#define _GNU_SOURCE /* pthread_setname_np */
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/fanout.h"
#include "core/log.h"
#include "db_int.h"

/* The WAL is copied back (a passive checkpoint) once this many frames were
 * added since the last request: SQLite's own automatic checkpoint, at the
 * same size, but run on the checkpointer's connection, not inside the
 * writer's commit nor on its thread (the writer only asks for it). */
#define CKPT_FRAMES 1000
/* A WAL this long (about 40 MB) is checkpointed by the writer itself. */
#define CKPT_WAL_MAX_FRAMES 10000

struct db_checkpointer {
    struct db *db; /* the checkpointer's own connection; NULL: the writer checkpoints */
    pthread_t th;
    bool started, due, stop;
    pthread_mutex_t mu;
    pthread_cond_t work;
    unsigned long count;
    int mark; /* the WAL's frames when a checkpoint was last asked for (writer only) */
};

/* A passive checkpoint on DB: it never waits for readers or other writers,
 * and what it cannot copy now the next one does. A failure leaves the WAL
 * longer, nothing else (the commits are durable in the WAL). */
static void checkpoint(struct db *db)
{
    int rc = sqlite3_wal_checkpoint_v2(db_handle(db), NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                       NULL);

    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        log_warn("db: checkpoint after a commit: %s", sqlite3_errstr(rc));
}

/* One passive checkpoint per request, on its own connection, while the
 * writer goes on (SQLite lets a checkpoint and a writer run at once in WAL
 * mode). */
static void *checkpointer_main(void *p)
{
    struct db_checkpointer *c = p;

    (void)pthread_setname_np(pthread_self(), "civreg-ckpt");
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->due && !c->stop)
            pthread_cond_wait(&c->work, &c->mu);
        if (!c->due)
            break;
        c->due = false;
        pthread_mutex_unlock(&c->mu);
        checkpoint(c->db);
        pthread_mutex_lock(&c->mu);
        c->count++;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

struct db_checkpointer *db_checkpointer_new(const char *path)
{
    struct db_checkpointer *c = calloc(1, sizeof *c);
    struct err err = ERR_INIT;
    sigset_t all, old;
    int e;

    if (c == NULL) {
        log_warn("db: no checkpointer, the writer checkpoints: out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->work, NULL);
    if (db_open(path, 0, &c->db, &err) != 0) {
        log_warn("db: no checkpointer, the writer checkpoints: %s", err_msg(&err));
        return c;
    }
    /* every signal blocked: they are for the process's own threads */
    sigfillset(&all);
    (void)pthread_sigmask(SIG_BLOCK, &all, &old);
    e = pthread_create(&c->th, NULL, checkpointer_main, c);
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        log_warn("db: no checkpointer, the writer checkpoints: %s", strerror(e));
        db_close(c->db);
        c->db = NULL;
        return c;
    }
    c->started = true;
    return c;
}

/* While the checkpointer copies, the writer goes on appending, so the WAL
 * can only start over when a checkpoint ends between two of its
 * transactions: past CKPT_WAL_MAX_FRAMES the writer checkpoints itself, as
 * SQLite's own automatic checkpoint would. */
void db_checkpointer_committed(struct db_checkpointer *c, struct db *writer, int frames)
{
    int mark = c ? c->mark : 0;

    if (frames < mark)
        mark = 0; /* the WAL started over */
    if (frames - mark < CKPT_FRAMES) {
        if (c)
            c->mark = mark;
        return;
    }
    if (c == NULL || !c->started || frames >= CKPT_WAL_MAX_FRAMES) {
        if (c)
            c->mark = 0;
        checkpoint(writer);
        return;
    }
    c->mark = frames;
    pthread_mutex_lock(&c->mu);
    c->due = true;
    pthread_cond_signal(&c->work);
    pthread_mutex_unlock(&c->mu);
}

unsigned long db_checkpointer_count(struct db_checkpointer *c)
{
    unsigned long n;

    if (c == NULL)
        return 0;
    pthread_mutex_lock(&c->mu);
    n = c->count;
    pthread_mutex_unlock(&c->mu);
    return n;
}

void db_checkpointer_free(struct db_checkpointer *c)
{
    if (c == NULL)
        return;
    if (c->started)
        thread_stop(c->th, &c->mu, &c->work, &c->stop);
    db_close(c->db);
    pthread_cond_destroy(&c->work);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
