/* civreg registry: tree heads signed on a thread of their own during a batch.
 *
 * Every append of a batch still gets its own signed tree head (one per log
 * size, the body and signature reg_tree_head_sign makes); only the signing
 * moves off the thread that holds the transaction, and the rows are
 * written, in log order, before the batch commits (reg_head_queue_flush).
 * The event's own signature stays on the appending thread: its leaf, and so
 * the next root, depends on it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/fanout.h"
#include "registry_int.h"

#define HEAD_QUEUE_CAP 1024
/* An idle signer is woken when this many heads wait, not for each one: a
 * head is signed in about 20 microseconds, a wake-up (a futex call on each
 * side) costs a few, and the appends must not pay them per event. */
#define HEAD_QUEUE_WAKE 32

struct head_job {
    const struct registry_actor *actor;
    uint64_t size;
    unsigned char root[32];
    char now[TIME_ISO8601_LEN + 1];
    struct buf body;
    unsigned char sig[REG_SIG_BYTES];
    int rc;
    struct err err;
};

struct reg_head_queue {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or stop */
    pthread_cond_t done; /* a job was finished */
    size_t pushed, next, finished;
    bool stop;
    /* who waits on a condition: a signal (a futex call) only then */
    bool worker_idle, flush_waits;
    struct head_job jobs[HEAD_QUEUE_CAP];
};

static void job_run(struct head_job *j)
{
    j->rc = reg_tree_head_make(j->actor, j->size, j->root, j->now, &j->body, j->sig, &j->err);
}

/* Take and run all queued jobs, as long as there are any; called with
 * Q->MU held, returns with it held. The lock is taken once per run of jobs,
 * not per job, so the appending thread seldom finds it held. */
static void run_queued(struct reg_head_queue *q)
{
    while (q->next < q->pushed) {
        size_t from = q->next, to = q->pushed;
        q->next = to;
        pthread_mutex_unlock(&q->mu);
        for (size_t i = from; i < to; i++)
            job_run(&q->jobs[i]);
        pthread_mutex_lock(&q->mu);
        q->finished += to - from;
        if (q->flush_waits)
            pthread_cond_signal(&q->done);
    }
}

static void *worker(void *arg)
{
    struct reg_head_queue *q = arg;

    pthread_mutex_lock(&q->mu);
    for (;;) {
        run_queued(q);
        if (q->stop)
            break;
        q->worker_idle = true;
        pthread_cond_wait(&q->work, &q->mu);
        q->worker_idle = false;
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

int reg_head_queue_start(struct reg_head_queue **out, struct err *err)
{
    struct reg_head_queue *q = calloc(1, sizeof *q);

    *out = NULL;
    if (q == NULL)
        return err_oom(err);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->done, NULL);
    if (pthread_create(&q->th, NULL, worker, q) != 0) {
        pthread_cond_destroy(&q->done);
        pthread_cond_destroy(&q->work);
        pthread_mutex_destroy(&q->mu);
        free(q);
        return err_setk(err, ERR_INTERNAL, "tree heads: cannot start the signing thread");
    }
    *out = q;
    return 0;
}

/* With every queued job finished (the signer waits or is stopped): their
 * bodies freed, the queue empty. */
static void jobs_release(struct reg_head_queue *q)
{
    for (size_t i = 0; i < q->pushed; i++)
        buf_release(&q->jobs[i].body);
    pthread_mutex_lock(&q->mu); /* the signer reads the counts under it */
    q->pushed = q->next = q->finished = 0;
    pthread_mutex_unlock(&q->mu);
}

int reg_head_queue_push(struct db *db, struct reg_head_queue *q,
                        const struct registry_actor *actor, uint64_t size,
                        const unsigned char root[32], struct err *err)
{
    struct head_job *j;

    if (q->pushed == HEAD_QUEUE_CAP && reg_head_queue_flush(db, q, err) != 0)
        return -1;
    /* only this thread writes jobs at or past PUSHED */
    j = &q->jobs[q->pushed];
    memset(j, 0, sizeof *j);
    j->actor = actor;
    j->size = size;
    memcpy(j->root, root, sizeof j->root);
    j->body = (struct buf)BUF_INIT(4096);
    if (reg_now(j->now, err) != 0)
        return -1;
    pthread_mutex_lock(&q->mu);
    q->pushed++;
    if (q->worker_idle && q->pushed - q->next >= HEAD_QUEUE_WAKE)
        pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

int reg_head_queue_flush(struct db *db, struct reg_head_queue *q, struct err *err)
{
    int rc = 0;

    pthread_mutex_lock(&q->mu);
    run_queued(q);
    q->flush_waits = true;
    while (q->finished < q->pushed)
        pthread_cond_wait(&q->done, &q->mu);
    q->flush_waits = false;
    pthread_mutex_unlock(&q->mu);
    /* every job is finished and the worker waits: the jobs are this
     * thread's again */
    for (size_t i = 0; i < q->pushed && rc == 0; i++) {
        const struct head_job *j = &q->jobs[i];
        if (j->rc != 0)
            rc = err_set(err, "%s", err_msg(&j->err));
        else
            rc = reg_tree_head_store(db, j->actor, j->size, j->root, j->now, &j->body, j->sig,
                                     err);
    }
    jobs_release(q);
    return rc;
}

void reg_head_queue_stop(struct reg_head_queue *q)
{
    if (q == NULL)
        return;
    thread_stop(q->th, &q->mu, &q->work, &q->stop);
    jobs_release(q);
    pthread_cond_destroy(&q->done);
    pthread_cond_destroy(&q->work);
    pthread_mutex_destroy(&q->mu);
    free(q);
}
