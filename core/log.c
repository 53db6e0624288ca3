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

void log_write(enum log_level level, const char *fmt, ...)
{
    char line[2048];
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
    m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    n += m;
    if ((size_t)n >= sizeof line - 1)
        n = (int)sizeof line - 2; /* truncated message: keep the newline */
    line[n++] = '\n';
    /* One write per line keeps lines from different threads whole. */
    (void)!write(STDERR_FILENO, line, (size_t)n);
}
