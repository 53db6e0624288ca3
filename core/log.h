/* civreg core: logging to stderr with UTC timestamps.
 * Lines look like "2026-11-26T15:00:00Z civreg[123] warn: message".
 * Thread-safe: each line is written with a single write(2). Control
 * characters in the message are escaped (\n, \xNN, \u0085; a backslash is
 * doubled), so every message is exactly one line whatever it quotes. */
#ifndef CIVREG_CORE_LOG_H
#define CIVREG_CORE_LOG_H

enum log_level {
    LOG_DEBUG = 0,
    LOG_INFO = 1,
    LOG_WARN = 2,
    LOG_ERROR = 3,
    LOG_OFF = 4,
};

/* Messages below LEVEL are dropped. Default: LOG_INFO. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parse "debug", "info", "warn", "error" or "off". Returns 0, or -1 when NAME
 * is not a level. */
int log_parse_level(const char *name, enum log_level *out);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
