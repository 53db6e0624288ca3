/* civreg core: one piece of work cut into jobs, run on threads. */
#include "fanout.h"

#include <pthread.h>
#include <stdbool.h>

void fanout_run(void *jobs, size_t n, size_t size, void *(*fn)(void *))
{
    pthread_t th[FANOUT_MAX];
    bool started[FANOUT_MAX] = { false };
    char *job = jobs;

    if (n == 0)
        return;
    for (size_t k = 1; k < n && k < FANOUT_MAX; k++)
        started[k] = pthread_create(&th[k], NULL, fn, job + k * size) == 0;
    (void)fn(job);
    for (size_t k = 1; k < n; k++) {
        if (k < FANOUT_MAX && started[k])
            (void)pthread_join(th[k], NULL);
        else
            (void)fn(job + k * size);
    }
}

void thread_stop(pthread_t th, pthread_mutex_t *mu, pthread_cond_t *cv, bool *stop)
{
    pthread_mutex_lock(mu);
    *stop = true;
    pthread_cond_broadcast(cv);
    pthread_mutex_unlock(mu);
    pthread_join(th, NULL);
}
