#include "log.h"

#include "timeutil.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int current_level = LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error", "off" };

void log_set_level(enum log_level level)
{
    atomic_store(&current_level, (int)level);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load(&current_level);
}

int log_parse_level(const char *name, enum log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (name != NULL && strcmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

/* Copy MSG into OUT (SIZE bytes, at least 5) with every control character
 * escaped: C0 controls and DEL as \n \r \t or \xNN, the C1 controls (UTF-8
 * C2 80..9F) as \u00NN, and the backslash itself doubled, so one message is
 * always one line and an escape in the log cannot be mistaken for input.
 * Logged strings come from requests (user names tried at sign-in, paths):
 * without this a "name\nINFO forged" would write a line of its own.
 * Returns the length written; a message that does not fit is cut between
 * escapes. */
static size_t escape_controls(const char *msg, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    for (const unsigned char *p = (const unsigned char *)msg; *p != '\0'; p++) {
        char e[8];
        size_t n = 0;
        if (*p == '\\') {
            e[n++] = '\\';
            e[n++] = '\\';
        } else if (*p == '\n' || *p == '\r' || *p == '\t') {
            e[n++] = '\\';
            e[n++] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
        } else if (*p < 0x20 || *p == 0x7f) {
            e[n++] = '\\';
            e[n++] = 'x';
            e[n++] = hex[*p >> 4];
            e[n++] = hex[*p & 15];
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            memcpy(e, "\\u00", 4);
            e[4] = hex[p[1] >> 4];
            e[5] = hex[p[1] & 15];
            n = 6;
            p++;
        } else {
            e[n++] = (char)*p;
        }
        if (o + n >= size)
            break;
        memcpy(out + o, e, n);
        o += n;
    }
    out[o] = '\0';
    return o;
}

void log_write(enum log_level level, const char *fmt, ...)
{
    char line[2048], msg[2048];
    char ts[TIME_ISO8601_LEN + 1];
    va_list ap;
    int n, m;

    if ((int)level < atomic_load(&current_level) || level >= LOG_OFF)
        return;
    if (time_iso8601(time(NULL), ts) != 0)
        (void)snprintf(ts, sizeof ts, "?");
    n = snprintf(line, sizeof line, "%s civreg[%ld] %s: ", ts, (long)getpid(), level_names[level]);
    if (n < 0 || (size_t)n >= sizeof line)
        return;
    va_start(ap, fmt);
    m = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    /* Room for the newline is kept: a cut message still ends its line. */
    n += (int)escape_controls(msg, line + n, sizeof line - (size_t)n - 1);
    line[n++] = '\n';
    /* One write per line keeps lines from different threads whole. */
    (void)!write(STDERR_FILENO, line, (size_t)n);
}
