/* civreg web: sign-in throttling (see throttle.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "throttle.h"

#define KEY_MAX 96

struct entry {
    char key[KEY_MAX]; /* "u:" + user name, or "a:" + address; "" = free slot */
    unsigned failures;
    time_t first;        /* start of the current window */
    time_t last;         /* last failure */
    time_t locked_until;
};

struct web_throttle {
    pthread_mutex_t mu;
    struct web_throttle_limits lim;
    struct entry *e;
};

int web_throttle_new(const struct web_throttle_limits *lim, struct web_throttle **out,
                     struct err *err)
{
    struct web_throttle *t;

    *out = NULL;
    if (lim->user_limit == 0 || lim->addr_limit == 0 || lim->window <= 0 ||
        lim->base_delay <= 0 || lim->max_delay < lim->base_delay || lim->max_entries == 0)
        return err_set(err, "throttle: limits must be positive");
    t = calloc(1, sizeof *t);
    if (t == NULL || (t->e = calloc(lim->max_entries, sizeof *t->e)) == NULL) {
        free(t);
        return err_set(err, "throttle: out of memory");
    }
    if (pthread_mutex_init(&t->mu, NULL) != 0) {
        free(t->e);
        free(t);
        return err_set(err, "throttle: cannot create the lock");
    }
    t->lim = *lim;
    *out = t;
    return 0;
}

void web_throttle_free(struct web_throttle *t)
{
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t->e);
    free(t);
}

static void make_key(char out[KEY_MAX], char kind, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > KEY_MAX - 3)
        n = KEY_MAX - 3; /* long names share a slot: still throttled */
    out[0] = kind;
    out[1] = ':';
    if (n)
        memcpy(out + 2, s, n);
    out[n + 2] = '\0';
}

/* Under the lock: the entry for KEY, or NULL (CREATE: a free or the stalest
 * slot, reset). */
static struct entry *find(struct web_throttle *t, const char *key, bool create, time_t now)
{
    struct entry *free_slot = NULL, *stalest = NULL;

    for (size_t i = 0; i < t->lim.max_entries; i++) {
        struct entry *e = &t->e[i];
        if (e->key[0] == '\0') {
            if (free_slot == NULL)
                free_slot = e;
            continue;
        }
        if (strcmp(e->key, key) == 0)
            return e;
        /* Forget keys whose window and lock are over. */
        if (now - e->last >= t->lim.window && now >= e->locked_until) {
            memset(e, 0, sizeof *e);
            if (free_slot == NULL)
                free_slot = e;
            continue;
        }
        if (stalest == NULL || e->last < stalest->last)
            stalest = e;
    }
    if (!create)
        return NULL;
    if (free_slot == NULL)
        free_slot = stalest;
    memset(free_slot, 0, sizeof *free_slot);
    memcpy(free_slot->key, key, strlen(key) + 1);
    free_slot->first = now;
    return free_slot;
}

static time_t wait_of(const struct entry *e, time_t now)
{
    return e != NULL && e->locked_until > now ? e->locked_until - now : 0;
}

time_t web_throttle_check(struct web_throttle *t, const char *user, const char *addr, time_t now)
{
    char ku[KEY_MAX], ka[KEY_MAX];
    time_t a, b;

    make_key(ku, 'u', user);
    make_key(ka, 'a', addr);
    pthread_mutex_lock(&t->mu);
    a = wait_of(find(t, ku, false, now), now);
    b = wait_of(find(t, ka, false, now), now);
    pthread_mutex_unlock(&t->mu);
    return a > b ? a : b;
}

static void fail(struct web_throttle *t, const char *key, unsigned limit, time_t now)
{
    struct entry *e = find(t, key, true, now);
    time_t delay;

    if (now - e->first >= t->lim.window && now >= e->locked_until) {
        e->failures = 0;
        e->first = now;
    }
    e->failures++;
    e->last = now;
    if (e->failures >= limit) {
        delay = t->lim.base_delay;
        for (unsigned i = limit; i < e->failures && delay < t->lim.max_delay; i++)
            delay *= 2;
        if (delay > t->lim.max_delay)
            delay = t->lim.max_delay;
        e->locked_until = now + delay;
    }
}

void web_throttle_failure(struct web_throttle *t, const char *user, const char *addr, time_t now)
{
    char ku[KEY_MAX], ka[KEY_MAX];

    make_key(ku, 'u', user);
    make_key(ka, 'a', addr);
    pthread_mutex_lock(&t->mu);
    fail(t, ku, t->lim.user_limit, now);
    fail(t, ka, t->lim.addr_limit, now);
    pthread_mutex_unlock(&t->mu);
}

void web_throttle_success(struct web_throttle *t, const char *user, time_t now)
{
    char ku[KEY_MAX];
    struct entry *e;

    make_key(ku, 'u', user);
    pthread_mutex_lock(&t->mu);
    e = find(t, ku, false, now);
    if (e != NULL)
        memset(e, 0, sizeof *e);
    pthread_mutex_unlock(&t->mu);
}
