/* civreg core: error messages owned by the caller.
 *
 * Every fallible function returns int (0 success, negative failure) and, on
 * failure, writes one human message into a caller-provided struct err:
 * lowercase, no full stop, naming what failed first ("png: truncated IDAT").
 * Passing NULL for the struct err is allowed and discards the message.
 */
#ifndef CIVREG_CORE_ERR_H
#define CIVREG_CORE_ERR_H

#include <stddef.h>

#define ERR_MSG_MAX 512

struct err {
    char msg[ERR_MSG_MAX];
};

#define ERR_INIT {{0}}

/* Set the message (printf-style). Always returns -1 so callers can write
 * `return err_set(err, "...")`. A message that does not fit is truncated. */
int err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepend "PREFIX: " to the current message (for context added by callers).
 * Returns -1. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clear the message. */
void err_clear(struct err *e);

/* The message, or "unknown error" when none was set; never NULL. */
const char *err_msg(const struct err *e);

#endif
