/* The public seal check's admission gate (web/gate.c) and its limits from
 * civreg.conf: RUNNING holders at once, WAITING more queued at most WAIT_MS,
 * anything beyond refused at once; every seal_verify_* key honoured and a
 * bad value refused with the key named. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/conf.h"
#include "web/web_int.h"
#include "support/cmocka_main.h"
#include "support/support.h"

struct waiter {
    struct web_gate *g;
    unsigned wait_ms;
    int rc;
    double seconds;
};

static void *enter_one(void *arg)
{
    struct waiter *w = arg;
    double t0 = now_s();
    w->rc = web_gate_enter(w->g, w->wait_ms);
    w->seconds = now_s() - t0;
    if (w->rc == 0)
        web_gate_leave(w->g);
    return NULL;
}

static void test_gate(void **state)
{
    struct web_gate *g = NULL;
    struct err err = ERR_INIT;
    struct waiter w = { 0 }, w2 = { 0 };
    pthread_t t, t2;
    (void)state;

    assert_int_equal(web_gate_new(0, 1, &g, &err), -1);
    assert_int_equal(web_gate_new(2, 1, &g, &err), 0);
    /* Two run at once. */
    assert_int_equal(web_gate_enter(g, 0), 0);
    assert_int_equal(web_gate_enter(g, 0), 0);
    /* A third does not wait when told not to, and waits at most WAIT_MS. */
    assert_int_equal(web_gate_enter(g, 0), -1);
    w = (struct waiter){ g, 200, 1, 0 };
    assert_int_equal(pthread_create(&t, NULL, enter_one, &w), 0);
    usleep(50000);
    /* The queue holds one: a fourth is refused at once. */
    assert_int_equal(web_gate_enter(g, 5000), -1);
    pthread_join(t, NULL);
    assert_int_equal(w.rc, -1);
    assert_true(w.seconds >= 0.15 && w.seconds < 5.0); /* it waited, boundedly */
    /* A slot freed while one waits: it gets in. */
    w2 = (struct waiter){ g, 5000, 1, 0 };
    assert_int_equal(pthread_create(&t2, NULL, enter_one, &w2), 0);
    usleep(50000);
    web_gate_leave(g);
    pthread_join(t2, NULL);
    assert_int_equal(w2.rc, 0);
    assert_true(w2.seconds < 5.0);
    web_gate_leave(g);
    web_gate_free(g);
    web_gate_free(NULL);
}

/* The limits L holds */
static void assert_seal_limits(const struct web_seal_limits *l, unsigned long megapixels,
                               unsigned long seconds, unsigned long concurrent, unsigned long queue,
                               unsigned long queue_wait_ms)
{
    assert_int_equal(l->megapixels, megapixels);
    assert_int_equal(l->seconds, seconds);
    assert_int_equal(l->concurrent, concurrent);
    assert_int_equal(l->queue, queue);
    assert_int_equal(l->queue_wait_ms, queue_wait_ms);
}

static void test_seal_limits_conf(void **state)
{
    static const char text[] = "seal_verify_megapixels = 5\nseal_verify_seconds = 7\n"
                               "seal_verify_concurrent = 3\nseal_verify_queue = 0\n"
                               "seal_verify_queue_wait_ms = 250\n";
    struct conf *c = NULL;
    struct web_seal_limits *l = NULL;
    struct err err = ERR_INIT;
    (void)state;

    assert_int_equal(web_seal_limits_new(NULL, &l, &err), 0);
    assert_seal_limits(l, 12, 3, 2, 4, 1000);
    web_seal_limits_free(l);

    assert_int_equal(conf_parse(text, strlen(text), "civreg.conf", &c, &err), 0);
    assert_int_equal(web_seal_limits_new(c, &l, &err), 0);
    assert_seal_limits(l, 5, 7, 3, 0, 250);
    /* No queue: with three running, a fourth is refused at once. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(web_gate_enter(l->gate, 250), 0);
    assert_int_equal(web_gate_enter(l->gate, 250), -1);
    for (int i = 0; i < 3; i++)
        web_gate_leave(l->gate);
    web_seal_limits_free(l);
    conf_free(c);

    static const char *const bad[] = { "seal_verify_megapixels = 0\n", "seal_verify_seconds = x\n",
                                       "seal_verify_concurrent = -1\n",
                                       "seal_verify_queue_wait_ms = 99999999999999999999\n" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char key[64];
        assert_int_equal(conf_parse(bad[i], strlen(bad[i]), "civreg.conf", &c, &err), 0);
        assert_int_equal(web_seal_limits_new(c, &l, &err), -1);
        assert_null(l);
        snprintf(key, sizeof key, "%.*s", (int)strcspn(bad[i], " "), bad[i]);
        if (strstr(err_msg(&err), key) == NULL)
            fail_msg("'%s' does not name %s", err_msg(&err), key);
        conf_free(c);
    }
}

CMOCKA_MAIN(NULL, NULL, test_gate, test_seal_limits_conf)
