/* civreg core: UTC time in ISO 8601 and calendar dates. */
#ifndef CIVREG_CORE_TIMEUTIL_H
#define CIVREG_CORE_TIMEUTIL_H

#include <stdbool.h>
#include <time.h>

#include "err.h"

#define TIME_ISO8601_LEN 20 /* "YYYY-MM-DDTHH:MM:SSZ" */

/* Format T as "YYYY-MM-DDTHH:MM:SSZ" into OUT (TIME_ISO8601_LEN+1 bytes).
 * Returns 0, or -1 when T is outside years 0000-9999. */
int time_iso8601(time_t t, char out[TIME_ISO8601_LEN + 1]);

/* Parse exactly "YYYY-MM-DDTHH:MM:SSZ" (UTC). Returns 0, or -1 with a message. */
int time_parse_iso8601(const char *s, time_t *out, struct err *err);

/* True when Y-M-D is a real date of the proleptic Gregorian calendar. */
bool date_valid(int y, int m, int d);

/* Parse exactly "YYYY-MM-DD" into a valid calendar date. Returns 0 or -1. */
int date_parse(const char *s, int *y, int *m, int *d, struct err *err);

/* Today's UTC date. */
void date_today(int *y, int *m, int *d);

/* Days since 1970-01-01 for a valid date (may be negative). */
long date_to_days(int y, int m, int d);

/* The time MS milliseconds from now on CLOCK (an absolute deadline for
 * pthread_cond_timedwait on a condition variable of that clock). */
struct timespec time_after_ms(clockid_t clock, unsigned long ms);

#endif
