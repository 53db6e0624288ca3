/* civreg web: an admission gate for costly public work (see web_int.h).
 *
 * Decoding an uploaded picture costs seconds of CPU and tens of megabytes;
 * the per-address throttle does not bound what many addresses together
 * ask for. The gate lets RUNNING requests work at once and WAITING more
 * queue for a slot for at most a short time; anything beyond is answered
 * 503 at once, so memory and CPU stay bounded whatever the load. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/timeutil.h"
#include "web_int.h"

struct web_gate {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    unsigned running, waiting;     /* now */
    unsigned max_running, max_waiting;
};

int web_gate_new(unsigned running, unsigned waiting, struct web_gate **out, struct err *err)
{
    struct web_gate *g;
    pthread_condattr_t attr;

    *out = NULL;
    if (running == 0)
        return err_set(err, "gate: at least one request must be allowed to run");
    g = calloc(1, sizeof *g);
    if (g == NULL)
        return err_setk(err, ERR_INTERNAL, "gate: out of memory");
    g->max_running = running;
    g->max_waiting = waiting;
    pthread_mutex_init(&g->lock, NULL);
    /* Waits are measured on the monotonic clock: a wall-clock step must not
     * keep a request queued. */
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g->freed, &attr);
    pthread_condattr_destroy(&attr);
    *out = g;
    return 0;
}

void web_gate_free(struct web_gate *g)
{
    if (g == NULL)
        return;
    pthread_cond_destroy(&g->freed);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

int web_gate_enter(struct web_gate *g, unsigned wait_ms)
{
    struct timespec until;
    int rc = 0;

    pthread_mutex_lock(&g->lock);
    if (g->running < g->max_running) {
        g->running++;
        pthread_mutex_unlock(&g->lock);
        return 0;
    }
    if (g->waiting >= g->max_waiting || wait_ms == 0) {
        pthread_mutex_unlock(&g->lock);
        return -1;
    }
    until = time_after_ms(CLOCK_MONOTONIC, wait_ms);
    g->waiting++;
    while (g->running >= g->max_running && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&g->freed, &g->lock, &until);
    g->waiting--;
    if (g->running < g->max_running) {
        g->running++;
        rc = 0;
    } else {
        rc = -1;
    }
    pthread_mutex_unlock(&g->lock);
    return rc;
}

void web_gate_leave(struct web_gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->running--;
    pthread_cond_signal(&g->freed);
    pthread_mutex_unlock(&g->lock);
}
