/* civreg web: throttling of failed attempts (see throttle.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "throttle.h"

/* An address (47 bytes at most), a separator, a user name (64 bytes at
 * most at sign-in) and a NUL. */
#define KEY_MAX 128

struct entry {
    char key[KEY_MAX]; /* "" = free slot */
    unsigned failures;
    time_t first;      /* start of the current run */
    time_t last;       /* last failure */
    time_t wait_until; /* delay in force until then */
};

struct table {
    struct entry *e;
    size_t n;
};

struct web_throttle {
    pthread_mutex_t mu;
    struct web_throttle_limits lim;
    struct table pairs, addrs;
    struct entry global;
};

static bool rule_ok(const struct web_throttle_rule *r)
{
    return r->free == 0 || (r->base_delay > 0 && r->max_delay >= r->base_delay);
}

int web_throttle_new(const struct web_throttle_limits *lim, struct web_throttle **out,
                     struct err *err)
{
    struct web_throttle *t;

    *out = NULL;
    if (!rule_ok(&lim->pair) || !rule_ok(&lim->addr) || !rule_ok(&lim->global) ||
        lim->window <= 0 || lim->max_entries == 0)
        return err_set(err, "throttle: delays and the window must be positive, the longest "
                            "delay at least the first");
    t = calloc(1, sizeof *t);
    if (t == NULL)
        return err_setk(err, ERR_INTERNAL, "throttle: out of memory");
    t->pairs.e = calloc(lim->max_entries, sizeof *t->pairs.e);
    t->addrs.e = calloc(lim->max_entries, sizeof *t->addrs.e);
    if (t->pairs.e == NULL || t->addrs.e == NULL) {
        free(t->pairs.e);
        free(t->addrs.e);
        free(t);
        return err_setk(err, ERR_INTERNAL, "throttle: out of memory");
    }
    if (pthread_mutex_init(&t->mu, NULL) != 0) {
        free(t->pairs.e);
        free(t->addrs.e);
        free(t);
        return err_set(err, "throttle: cannot create the lock");
    }
    t->pairs.n = t->addrs.n = lim->max_entries;
    t->lim = *lim;
    *out = t;
    return 0;
}

void web_throttle_free(struct web_throttle *t)
{
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t->pairs.e);
    free(t->addrs.e);
    free(t);
}

/* KEY = A, or A + '\x1f' + B when B is given; over-long parts are cut
 * (names sharing a long prefix share a key: still throttled). */
static void make_key(char out[KEY_MAX], const char *a, const char *b)
{
    size_t na = a ? strlen(a) : 0, nb = b ? strlen(b) : 0;

    if (na > 48)
        na = 48;
    if (nb > KEY_MAX - 50)
        nb = KEY_MAX - 50;
    if (na)
        memcpy(out, a, na);
    if (b != NULL) {
        out[na++] = '\x1f';
        if (nb)
            memcpy(out + na, b, nb);
        na += nb;
    }
    out[na] = '\0';
    if (out[0] == '\0')
        memcpy(out, "-", 2); /* "" is a free slot */
}

static bool stale(const struct entry *e, time_t window, time_t now)
{
    return now - e->first >= window && now >= e->wait_until;
}

/* Under the lock: KEY's entry in T, or NULL (CREATE: a free slot, or one
 * whose run is over, or the one that failed longest ago, emptied). */
static struct entry *find(struct table *t, time_t window, const char *key, bool create,
                          time_t now)
{
    struct entry *free_slot = NULL, *oldest = NULL;

    for (size_t i = 0; i < t->n; i++) {
        struct entry *e = &t->e[i];
        if (e->key[0] == '\0') {
            if (free_slot == NULL)
                free_slot = e;
            continue;
        }
        if (strcmp(e->key, key) == 0)
            return e;
        if (stale(e, window, now)) {
            memset(e, 0, sizeof *e);
            if (free_slot == NULL)
                free_slot = e;
            continue;
        }
        if (oldest == NULL || e->last < oldest->last)
            oldest = e;
    }
    if (!create)
        return NULL;
    if (free_slot == NULL)
        free_slot = oldest;
    memset(free_slot, 0, sizeof *free_slot);
    memcpy(free_slot->key, key, strlen(key) + 1);
    free_slot->first = now;
    return free_slot;
}

static time_t wait_of(const struct entry *e, time_t now)
{
    return e != NULL && e->wait_until > now ? e->wait_until - now : 0;
}

/* One more failure on E under rule R: past the allowance, wait BASE_DELAY
 * doubled once per failure beyond it, at most MAX_DELAY. */
static void fail(struct entry *e, const struct web_throttle_rule *r, time_t window, time_t now)
{
    time_t delay;

    if (stale(e, window, now)) {
        e->failures = 0;
        e->first = now;
    }
    e->failures++;
    e->last = now;
    if (e->failures < r->free)
        return;
    delay = r->base_delay;
    for (unsigned i = r->free; i < e->failures && delay < r->max_delay; i++)
        delay *= 2;
    if (delay > r->max_delay)
        delay = r->max_delay;
    e->wait_until = now + delay;
}

time_t web_throttle_check(struct web_throttle *t, const char *user, const char *addr, time_t now)
{
    char kp[KEY_MAX], ka[KEY_MAX];
    time_t w = 0, x;

    make_key(kp, addr, user ? user : "");
    make_key(ka, addr, NULL);
    pthread_mutex_lock(&t->mu);
    if (t->lim.pair.free > 0)
        w = wait_of(find(&t->pairs, t->lim.window, kp, false, now), now);
    if (t->lim.addr.free > 0 && (x = wait_of(find(&t->addrs, t->lim.window, ka, false, now), now)) > w)
        w = x;
    if (t->lim.global.free > 0 && (x = wait_of(&t->global, now)) > w)
        w = x;
    pthread_mutex_unlock(&t->mu);
    return w;
}

void web_throttle_failure(struct web_throttle *t, const char *user, const char *addr, time_t now)
{
    char kp[KEY_MAX], ka[KEY_MAX];
    time_t win = t->lim.window;

    make_key(kp, addr, user ? user : "");
    make_key(ka, addr, NULL);
    pthread_mutex_lock(&t->mu);
    if (t->lim.pair.free > 0)
        fail(find(&t->pairs, win, kp, true, now), &t->lim.pair, win, now);
    if (t->lim.addr.free > 0)
        fail(find(&t->addrs, win, ka, true, now), &t->lim.addr, win, now);
    if (t->lim.global.free > 0)
        fail(&t->global, &t->lim.global, win, now);
    pthread_mutex_unlock(&t->mu);
}

void web_throttle_success(struct web_throttle *t, const char *user, const char *addr, time_t now)
{
    char kp[KEY_MAX];
    struct entry *e;

    make_key(kp, addr, user ? user : "");
    pthread_mutex_lock(&t->mu);
    e = find(&t->pairs, t->lim.window, kp, false, now);
    if (e != NULL)
        memset(e, 0, sizeof *e);
    pthread_mutex_unlock(&t->mu);
}
