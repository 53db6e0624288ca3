/* civreg web: throttling of failed attempts (sign-ins; public seal checks)
 * by growing delays, never by a lock an attacker can hold over someone
 * else.
 *
 * Three counters, each with its own rule:
 * - the pair (client address, user name): a wrong password from one place
 *   slows that place down for that name only, so guessing amina's password
 *   from one desk does not keep amina out at hers;
 * - the address alone, with a much higher allowance: one place guessing
 *   across many names;
 * - all failures together: a guessing campaign from many addresses.
 * After a rule's FREE failures within WINDOW seconds, the key waits
 * BASE_DELAY seconds, doubling with each further failure up to MAX_DELAY;
 * attempts while waiting are answered 429 with Retry-After and not tried
 * (the right password too: it is not even checked) and do not count. When
 * a key has been quiet for WINDOW seconds since its first failure and is
 * not waiting, it starts afresh. A success clears its pair only (not the
 * address: one valid account must not launder a guessing address).
 * Mutex-protected; fixed-size tables, the stalest key evicted first, and
 * pairs in a table of their own so a flood of made-up names cannot evict
 * an address's count. */
#ifndef CIVREG_WEB_THROTTLE_H
#define CIVREG_WEB_THROTTLE_H

#include <stddef.h>
#include <time.h>

#include "core/err.h"

struct web_throttle;

struct web_throttle_rule {
    unsigned free;      /* failures allowed before the first delay; 0 = rule off */
    time_t base_delay;  /* first delay, seconds */
    time_t max_delay;   /* longest delay, seconds */
};

struct web_throttle_limits {
    struct web_throttle_rule pair;   /* per (address, user name) */
    struct web_throttle_rule addr;   /* per address */
    struct web_throttle_rule global; /* all failures together */
    time_t window;                   /* seconds a run of failures counts */
    size_t max_entries;              /* keys remembered per table */
};

int web_throttle_new(const struct web_throttle_limits *lim, struct web_throttle **out,
                     struct err *err) __attribute__((warn_unused_result));
void web_throttle_free(struct web_throttle *t);

/* Seconds USER from ADDR must wait before trying again (the longest of the
 * three rules); 0 = may try now. */
time_t web_throttle_check(struct web_throttle *t, const char *user, const char *addr, time_t now)
    __attribute__((warn_unused_result));
void web_throttle_failure(struct web_throttle *t, const char *user, const char *addr, time_t now);
/* USER signed in from ADDR: their pair starts afresh. */
void web_throttle_success(struct web_throttle *t, const char *user, const char *addr, time_t now);

#endif
