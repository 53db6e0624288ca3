/* civreg core: one piece of work cut into jobs, run on threads; stopping a
 * worker thread that waits on a condition. */
#ifndef CIVREG_CORE_FANOUT_H
#define CIVREG_CORE_FANOUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* The most jobs that get a thread each; any beyond run on the caller's. */
#define FANOUT_MAX 64

/* Run FN on each of the N jobs laid out SIZE bytes apart from JOBS: the
 * first on the calling thread, each other on a thread of its own, and a
 * job whose thread cannot start on the calling thread after the first.
 * Returns when every job has run. */
void fanout_run(void *jobs, size_t n, size_t size, void *(*fn)(void *));

/* Set *STOP under MU, wake every waiter of CV, then join TH: the thread
 * sees *STOP the next time it holds MU. */
void thread_stop(pthread_t th, pthread_mutex_t *mu, pthread_cond_t *cv, bool *stop);

#endif
