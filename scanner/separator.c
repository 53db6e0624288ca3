/* civreg scanner: separator sheets (payload, Code 128); the printed sheet
 * is issuance/print/separator.c. */
#include <stdio.h>
#include <string.h>

#include "separator.h"

/* ISO/IEC 15417 Table 1: bar/space widths of symbol values 0..105, and the
 * stop character (106, seven elements including the final bar). */
static const char *const c128[107] = {
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312",
    "132212", "221213", "221312", "231212", "112232", "122132", "122231", "113222",
    "123122", "123221", "223211", "221132", "221231", "213212", "223112", "312131",
    "311222", "321122", "321221", "312212", "322112", "322211", "212123", "212321",
    "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
    "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121",
    "313121", "211331", "231131", "213113", "213311", "213131", "311123", "311321",
    "331121", "312113", "312311", "332111", "314111", "221411", "431111", "111224",
    "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
    "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112",
    "421211", "212141", "214121", "412121", "111143", "111341", "131141", "114113",
    "114311", "411113", "411311", "113141", "114131", "311141", "411131", "211412",
    "211214", "211232", "2331112",
};

enum { C128_CODE_C = 99, C128_CODE_B = 100, C128_START_B = 104, C128_START_C = 105,
       C128_STOP = 106 };

static size_t digit_run(const char *s)
{
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    return n;
}

int scan_code128_widths(const char *text, unsigned char *widths, size_t max, struct err *err)
{
    int values[256];
    size_t nv = 0, len = strlen(text), i = 0, nw = 0;
    int set_c, sum;

    if (len == 0 || len > 80)
        return err_set(err, "code 128: text must be 1 to 80 characters");
    for (size_t k = 0; k < len; k++)
        if ((unsigned char)text[k] < 32 || (unsigned char)text[k] > 126)
            return err_set(err, "code 128: character %zu is not printable ASCII", k + 1);
    /* Code set C packs two digits per symbol: worth it for 4+ digits at the
     * start or end, 6+ in the middle (two switch symbols cost). */
    set_c = digit_run(text) >= 4;
    values[nv++] = set_c ? C128_START_C : C128_START_B;
    while (i < len) {
        size_t run = digit_run(text + i);
        if (set_c) {
            if (run >= 2) {
                values[nv++] = (text[i] - '0') * 10 + (text[i + 1] - '0');
                i += 2;
                continue;
            }
            values[nv++] = C128_CODE_B;
            set_c = 0;
            continue;
        }
        if (run >= 6 || (run >= 4 && i + run == len)) {
            if (run % 2 == 1) { /* odd run: one digit in set B first */
                values[nv++] = text[i++] - 32;
                run--;
            }
            values[nv++] = C128_CODE_C;
            set_c = 1;
            continue;
        }
        values[nv++] = text[i++] - 32;
    }
    sum = values[0];
    for (size_t k = 1; k < nv; k++)
        sum += (int)k * values[k];
    values[nv++] = sum % 103;
    values[nv++] = C128_STOP;
    for (size_t k = 0; k < nv; k++) {
        const char *p = c128[values[k]];
        for (; *p; p++) {
            if (nw >= max)
                return err_set(err, "code 128: output too long");
            widths[nw++] = (unsigned char)(*p - '0');
        }
    }
    return (int)nw;
}

/* ---- payload ---- */

static int check_chars(const char *s, size_t min, size_t max, int dash, const char *what,
                       struct err *err)
{
    size_t n = strlen(s);

    if (n < min || n > max)
        return err_set(err, "separator: %s must be %zu to %zu characters", what, min, max);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (dash && c == '-')))
            return err_set(err, "separator: %s may only hold A-Z, 0-9%s", what, dash ? " and -" : "");
    }
    return 0;
}

static int check_fields(const struct scan_separator *sep, struct err *err)
{
    if (check_chars(sep->office, 2, 8, 0, "office code", err) != 0 ||
        check_chars(sep->volume, 1, 12, 1, "volume", err) != 0)
        return -1;
    if (sep->year < 1800 || sep->year > 2999)
        return err_set(err, "separator: year must be 1800 to 2999");
    return 0;
}

int scan_separator_format(const struct scan_separator *sep, char *out, size_t size,
                          struct err *err)
{
    int n;

    if (check_fields(sep, err) != 0)
        return -1;
    n = snprintf(out, size, "%s%s|%04d|%s", SCAN_SEPARATOR_PREFIX, sep->office, sep->year,
                 sep->volume);
    if (n < 0 || (size_t)n >= size)
        return err_set(err, "separator: payload buffer too small");
    return 0;
}

int scan_separator_parse(const unsigned char *data, size_t len, struct scan_separator *sep,
                         struct err *err)
{
    const size_t plen = sizeof SCAN_SEPARATOR_PREFIX - 1;
    const unsigned char *p, *end = data + len, *bar;
    char year[5];

    memset(sep, 0, sizeof *sep);
    if (len < plen || memcmp(data, SCAN_SEPARATOR_PREFIX, plen) != 0)
        return err_set(err, "separator: payload does not start with %s", SCAN_SEPARATOR_PREFIX);
    p = data + plen;
    bar = memchr(p, '|', (size_t)(end - p));
    if (bar == NULL || (size_t)(bar - p) >= sizeof sep->office)
        return err_set(err, "separator: bad office field");
    memcpy(sep->office, p, (size_t)(bar - p));
    p = bar + 1;
    if (end - p < 6 || p[4] != '|')
        return err_set(err, "separator: bad year field");
    memcpy(year, p, 4);
    year[4] = 0;
    for (int i = 0; i < 4; i++)
        if (year[i] < '0' || year[i] > '9')
            return err_set(err, "separator: bad year field");
    sep->year = (year[0] - '0') * 1000 + (year[1] - '0') * 100 + (year[2] - '0') * 10 + (year[3] - '0');
    p += 5;
    if ((size_t)(end - p) >= sizeof sep->volume || memchr(p, '|', (size_t)(end - p)) != NULL ||
        memchr(p, 0, (size_t)(end - p)) != NULL)
        return err_set(err, "separator: bad volume field");
    memcpy(sep->volume, p, (size_t)(end - p));
    if (check_fields(sep, err) != 0) {
        memset(sep, 0, sizeof *sep);
        return -1;
    }
    return 0;
}
