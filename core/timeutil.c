#include "timeutil.h"

#include <stdio.h>
#include <string.h>

/* Howard Hinnant's days-from-civil algorithm: exact for the proleptic
 * Gregorian calendar, no time zone involved. */
long date_to_days(int y, int m, int d)
{
    long yy = (long)y - (m <= 2);
    long era = (yy >= 0 ? yy : yy - 399) / 400;
    long yoe = yy - era * 400;
    long doy = (153L * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool date_valid(int y, int m, int d)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int max;

    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
        return false;
    max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

int time_iso8601(time_t t, char out[TIME_ISO8601_LEN + 1])
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
        return -1;
    if (strftime(out, TIME_ISO8601_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) != TIME_ISO8601_LEN)
        return -1;
    return 0;
}

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int date_parse(const char *s, int *y, int *m, int *d, struct err *err)
{
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, y) != 0 ||
        digits(s + 5, 2, m) != 0 || digits(s + 8, 2, d) != 0)
        return err_set(err, "date: expected YYYY-MM-DD");
    if (!date_valid(*y, *m, *d))
        return err_set(err, "date: %s is not a calendar date", s);
    return 0;
}

int time_parse_iso8601(const char *s, time_t *out, struct err *err)
{
    int y, mo, d, h, mi, se;
    char day[11];

    if (s == NULL || strlen(s) != TIME_ISO8601_LEN || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z' || digits(s + 11, 2, &h) != 0 ||
        digits(s + 14, 2, &mi) != 0 || digits(s + 17, 2, &se) != 0)
        return err_set(err, "time: expected YYYY-MM-DDTHH:MM:SSZ");
    memcpy(day, s, 10);
    day[10] = '\0';
    if (date_parse(day, &y, &mo, &d, err) != 0)
        return -1;
    if (h > 23 || mi > 59 || se > 59)
        return err_set(err, "time: %s is not a time of day", s);
    *out = (time_t)(date_to_days(y, mo, d) * 86400L + h * 3600L + mi * 60L + se);
    return 0;
}

void date_today(int *y, int *m, int *d)
{
    time_t now = time(NULL);
    struct tm tm;

    if (gmtime_r(&now, &tm) == NULL) {
        *y = 1970, *m = 1, *d = 1;
        return;
    }
    *y = tm.tm_year + 1900;
    *m = tm.tm_mon + 1;
    *d = tm.tm_mday;
}

struct timespec time_after_ms(clockid_t clock, unsigned long ms)
{
    struct timespec t;

    clock_gettime(clock, &t);
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}
