#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void set_msg(struct err *e, enum err_kind kind, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void set_msg(struct err *e, enum err_kind kind, const char *fmt, va_list ap)
{
    e->kind = kind;
    e->code = NULL;
    e->field[0] = '\0';
    /* Truncation is acceptable for a human message; the result is always
     * NUL-terminated. */
    (void)vsnprintf(e->msg, sizeof e->msg, fmt, ap);
}

int err_setk(struct err *e, enum err_kind kind, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return -1;
    va_start(ap, fmt);
    set_msg(e, kind, fmt, ap);
    va_end(ap);
    return -1;
}

int err_oom(struct err *e)
{
    return err_setk(e, ERR_INTERNAL, "out of memory");
}

int err_kind_set(struct err *e, enum err_kind kind)
{
    if (e != NULL)
        e->kind = kind;
    return -1;
}

enum err_kind err_kind(const struct err *e)
{
    return e == NULL ? ERR_INTERNAL : e->kind;
}

const char *err_kind_name(enum err_kind kind)
{
    static const char *const names[] = { "invalid", "not_found", "forbidden",
                                         "conflict", "busy",     "internal" };
    if ((unsigned)kind >= sizeof names / sizeof names[0])
        return "internal";
    return names[kind];
}

int err_prefix(struct err *e, const char *fmt, ...)
{
    char prefix[ERR_MSG_MAX];
    char old[ERR_MSG_MAX];
    va_list ap;

    if (e == NULL)
        return -1;
    va_start(ap, fmt);
    (void)vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    /* Truncation of a long message is acceptable; the result is checked
     * only to keep it NUL-terminated on encoding errors. */
    if (old[0] == '\0') {
        if (snprintf(e->msg, sizeof e->msg, "%s", prefix) < 0)
            e->msg[0] = '\0';
    } else if (snprintf(e->msg, sizeof e->msg, "%s: %s", prefix, old) < 0) {
        e->msg[0] = '\0';
    }
    return -1;
}

void err_clear(struct err *e)
{
    if (e != NULL) {
        e->kind = ERR_INVALID;
        e->msg[0] = '\0';
        e->code = NULL;
        e->field[0] = '\0';
    }
}

int err_code(struct err *e, const char *code, const char *field)
{
    if (e == NULL)
        return -1;
    e->code = code;
    if (snprintf(e->field, sizeof e->field, "%s", field ? field : "") < 0)
        e->field[0] = '\0';
    return -1;
}

const char *err_code_of(const struct err *e)
{
    return e == NULL ? NULL : e->code;
}

const char *err_field_of(const struct err *e)
{
    return e == NULL ? "" : e->field;
}

const char *err_msg(const struct err *e)
{
    if (e == NULL || e->msg[0] == '\0')
        return "unknown error";
    return e->msg;
}
