/* civreg tests: threads that allocate document numbers and booklets at the
 * same time (the passport office unit test and its concurrency test over a
 * real data directory), started together past one barrier and checked the
 * same way: no worker failed, and no number or booklet serial was handed out
 * twice. Include after <cmocka.h>. */
#ifndef CIVREG_TEST_ALLOC_WORKERS_H
#define CIVREG_TEST_ALLOC_WORKERS_H

#include <pthread.h>

#include "core/err.h"

#define ALLOC_ROUNDS_MAX 8

struct alloc_worker {
    pthread_t t;
    int id;
    char *ids[ALLOC_ROUNDS_MAX]; /* the test's own inputs, one a round */
    char numbers[ALLOC_ROUNDS_MAX][32];
    char serials[ALLOC_ROUNDS_MAX][32];
    char error[ERR_MSG_MAX]; /* the first failure, empty when none */
};

/* Run WORK on each of W[0..N) in its own thread (W[i].id = i); WORK waits
 * on BARRIER, initialized here for N, before it allocates. Fails the test
 * with the first worker's error. */
static inline void alloc_workers_run(struct alloc_worker *w, int n, void *(*work)(void *),
                                     pthread_barrier_t *barrier)
{
    pthread_barrier_init(barrier, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        w[i].id = i;
        assert_int_equal(pthread_create(&w[i].t, NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < n; i++)
        pthread_join(w[i].t, NULL);
    pthread_barrier_destroy(barrier);
    for (int i = 0; i < n; i++)
        if (w[i].error[0])
            fail_msg("worker %d: %s", i, w[i].error);
}

/* Every number and every booklet serial of N workers × ROUNDS distinct. */
static inline void alloc_workers_assert_distinct(const struct alloc_worker *w, int n, int rounds)
{
    for (int a = 0; a < n * rounds; a++)
        for (int b = a + 1; b < n * rounds; b++) {
            const struct alloc_worker *wa = &w[a / rounds], *wb = &w[b / rounds];
            assert_string_not_equal(wa->numbers[a % rounds], wb->numbers[b % rounds]);
            assert_string_not_equal(wa->serials[a % rounds], wb->serials[b % rounds]);
        }
}

#endif
