/* civreg web: throttling of failed sign-ins, per user name and per client
 * address. After LIMIT failures within WINDOW seconds a key is locked for
 * BASE_DELAY seconds, doubling with each further failure up to MAX_DELAY;
 * the caller answers 429 with Retry-After meanwhile. A success clears the
 * user's count (not the address's: one valid account must not launder a
 * password-guessing address). Mutex-protected, bounded memory. */
#ifndef CIVREG_WEB_THROTTLE_H
#define CIVREG_WEB_THROTTLE_H

#include <stddef.h>
#include <time.h>

#include "core/err.h"

struct web_throttle;

struct web_throttle_limits {
    unsigned user_limit; /* failures per user name before a lock */
    unsigned addr_limit; /* failures per address before a lock */
    time_t window;       /* seconds a failure counts */
    time_t base_delay;   /* first lock, seconds */
    time_t max_delay;    /* longest lock, seconds */
    size_t max_entries;  /* keys remembered; the stalest is dropped first */
};

int web_throttle_new(const struct web_throttle_limits *lim, struct web_throttle **out,
                     struct err *err) __attribute__((warn_unused_result));
void web_throttle_free(struct web_throttle *t);

/* Seconds USER from ADDR must wait before trying again; 0 = may try now. */
time_t web_throttle_check(struct web_throttle *t, const char *user, const char *addr, time_t now)
    __attribute__((warn_unused_result));
void web_throttle_failure(struct web_throttle *t, const char *user, const char *addr, time_t now);
void web_throttle_success(struct web_throttle *t, const char *user, time_t now);

#endif
