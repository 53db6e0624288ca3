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

/* What kind of failure an error is, set where it is raised. Callers that
 * answer a person (web/ as an HTTP status, cli/ as an exit code) decide on
 * the kind, never on the message text. */
enum err_kind {
    ERR_INVALID = 0, /* the input was refused (the default of err_set) */
    ERR_NOT_FOUND,   /* an id, number or name that does not exist */
    ERR_FORBIDDEN,   /* the actor's roles do not allow the action */
    ERR_CONFLICT,    /* the request fits, but not the current state */
    ERR_BUSY,        /* the database stayed locked: try again later */
    ERR_INTERNAL,    /* storage, I/O or memory: not the caller's fault */
};

struct err {
    enum err_kind kind;
    char msg[ERR_MSG_MAX];
    /* A stable code naming the failure for the user interface, which shows
     * its own text for it in the user's language (web/assets/i18n, keys
     * "error.<code>"); NULL when none was given. FIELD names the record
     * field at fault ("mother.date_of_birth"), empty when none. */
    const char *code;
    char field[64];
};

#define ERR_INIT {ERR_INVALID, {0}, NULL, {0}}

/* Set the message (printf-style) with kind ERR_INVALID. Always returns -1 so
 * callers can write `return err_set(err, "...")`. A message that does not fit
 * is truncated. */
#define err_set(e, ...) err_setk((e), ERR_INVALID, __VA_ARGS__)

/* err_set with the kind of the failure. Returns -1. */
int err_setk(struct err *e, enum err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The one "out of memory" failure (kind ERR_INTERNAL). Returns -1. */
int err_oom(struct err *e);

/* Change the kind of the error already in E (e.g. a lookup that found
 * nothing becomes ERR_NOT_FOUND where the caller knows). Returns -1. */
int err_kind_set(struct err *e, enum err_kind kind);

/* The kind of E (ERR_INTERNAL for NULL). */
enum err_kind err_kind(const struct err *e);

/* The kind's name: "invalid", "not_found", "forbidden", "conflict", "busy",
 * "internal". */
const char *err_kind_name(enum err_kind kind);

/* Prepend "PREFIX: " to the current message (for context added by callers);
 * the kind stays. Returns -1. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Name the failure already in E with CODE (a string literal of lowercase
 * letters, digits and '_') and the field FIELD (may be NULL). err_set and
 * err_setk clear both; err_prefix keeps them. Returns -1. */
int err_code(struct err *e, const char *code, const char *field);

/* The code of E, or NULL when none was given. */
const char *err_code_of(const struct err *e);

/* The field of E, or "" when none. */
const char *err_field_of(const struct err *e);

/* Clear the message (the kind becomes ERR_INVALID). */
void err_clear(struct err *e);

/* The message, or "unknown error" when none was set; never NULL. */
const char *err_msg(const struct err *e);

#endif
