/* civreg tests: random valid MRZ records (see mrz_random.h). */
#include <stdio.h>
#include <string.h>

#include "core/timeutil.h"
#include "issuance/icao/countries.h"
#include "mrz_random.h"

static uint64_t next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static unsigned below(uint64_t *s, unsigned n)
{
    return (unsigned)(next(s) % n);
}

/* Inverse of date_to_days (H. Hinnant's civil_from_days). */
void mrz_days_to_date(long z, struct mrz_date *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    d->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    d->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    d->year = (int)(yoe + era * 400 + (d->month <= 2));
}

/* Letters by script, as UTF-8. */
static const char *const latin[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m",
                                     "n", "o", "p", "r", "s", "t", "u", "v", "w", "y", "z" };
static const char *const accented[] = { "é", "è", "ñ", "ö", "ü", "ä", "å", "ø", "ç", "ł", "ß", "ş",
                                        "ğ", "č", "ž", "á", "í", "ó", "ú", "æ", "þ", "ð", "ő", "ț" };
static const char *const cyrillic[] = { "а", "б", "в", "г", "д", "е", "ж", "з", "и", "й", "к", "л",
                                        "м", "н", "о", "п", "р", "с", "т", "у", "ф", "х", "ц", "ч",
                                        "ш", "щ", "ы", "э", "ю", "я", "ъ", "ь" };
static const char *const arabic[] = { "ا", "ب", "ت", "ج", "د", "ر", "س", "ع", "ف", "ق", "ك", "ل",
                                      "م", "ن", "ه", "و", "ي", "ح", "ش", "ز" };

static void word(char *out, size_t size, uint64_t *s, int script)
{
    const char *const *set;
    size_t n, len = 0;
    switch (script) {
    case 0: set = latin; n = sizeof latin / sizeof *latin; break;
    case 1: set = accented; n = sizeof accented / sizeof *accented; break;
    case 2: set = cyrillic; n = sizeof cyrillic / sizeof *cyrillic; break;
    default: set = arabic; n = sizeof arabic / sizeof *arabic; break;
    }
    unsigned letters = 2 + below(s, 7);
    out[0] = '\0';
    for (unsigned i = 0; i < letters; i++) {
        /* Mixed Latin: mostly plain letters with a few accented ones. */
        const char *l = script == 1 && below(s, 3) ? latin[below(s, sizeof latin / sizeof *latin)] : set[below(s, (unsigned)n)];
        /* A Cyrillic word starting with a soft or hard sign is unusual; keep
         * the first letter a real one so a word is never empty. */
        if (script == 2 && i == 0 && (strcmp(l, "ь") == 0 || strcmp(l, "ъ") == 0))
            l = "а";
        len += (size_t)snprintf(out + len, size - len, "%s", l);
        if (len >= size)
            break;
    }
    if (below(s, 2) == 0 && out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 32); /* capitalized, as people type names */
}

static void name(char *out, size_t size, uint64_t *s, int script, unsigned words)
{
    size_t len = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < words; i++) {
        char w[64];
        word(w, sizeof w, s, script);
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? (below(s, 4) ? " " : "-") : "", w);
        if (len >= size)
            return;
    }
}

static void alnum(char *out, unsigned n, uint64_t *s, bool inner_filler)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (unsigned i = 0; i < n; i++)
        out[i] = set[below(s, 36)];
    if (inner_filler && n >= 3 && below(s, 4) == 0)
        out[1 + below(s, n - 2)] = '<';
    out[n] = '\0';
}

static const char *code(uint64_t *s, int flags)
{
    for (;;) {
        const struct mrz_country *c = mrz_country_at(below(s, (unsigned)mrz_country_count()));
        if (!(flags & MRZ_RANDOM_NPM) || c->kind == MRZ_CODE_ISO)
            return c->code;
    }
}

void mrz_random_record(struct mrz_random *r, uint64_t *s, const struct mrz_date *today, int flags)
{
    struct mrz_input *in = &r->in;
    long t = date_to_days(today->year, today->month, today->day);
    unsigned optroom;

    memset(r, 0, sizeof *r);
    in->format = (enum mrz_format)below(s, flags & MRZ_RANDOM_NPM ? 3 : 5);
    switch (in->format) {
    case MRZ_TD3: snprintf(r->document_code, sizeof r->document_code, "%s", below(s, 2) ? "P" : "PO"); break;
    case MRZ_MRVA:
    case MRZ_MRVB: snprintf(r->document_code, sizeof r->document_code, "V"); break;
    default: snprintf(r->document_code, sizeof r->document_code, "%s", (const char *[]){ "I", "ID", "A", "C" }[below(s, 4)]);
    }
    snprintf(r->issuing_state, sizeof r->issuing_state, "%s", code(s, flags));
    snprintf(r->nationality, sizeof r->nationality, "%s", code(s, flags));

    int script = (int)below(s, 4);
    name(r->primary, sizeof r->primary, s, script, 1 + below(s, 2));
    if (below(s, 8))
        name(r->secondary, sizeof r->secondary, s, script, 1 + below(s, 3));

    /* Birth within the last 99 years; expiry after birth, within 49 years
     * of today either way (the windows the parser infers centuries in). */
    mrz_days_to_date(t - (long)below(s, 99 * 365), &in->date_of_birth);
    long b = date_to_days(in->date_of_birth.year, in->date_of_birth.month, in->date_of_birth.day);
    long lo = t - 49 * 365 > b + 1 ? t - 49 * 365 : b + 1;
    mrz_days_to_date(lo + (long)below(s, (unsigned)(t + 49 * 365 - lo)), &in->date_of_expiry);

    const char *sexes = flags & MRZ_RANDOM_NPM ? "FM<" : "FMX<";
    r->sex = sexes[below(s, (unsigned)strlen(sexes))];
    in->sex = r->sex;

    switch (in->format) {
    case MRZ_TD1: optroom = 15; break;
    case MRZ_TD2: optroom = 7; break;
    case MRZ_TD3: optroom = 14; break;
    case MRZ_MRVA: optroom = 16; break;
    default: optroom = 8; break;
    }
    unsigned dlen = 5 + below(s, 5);
    if ((in->format == MRZ_TD1 || in->format == MRZ_TD2) && below(s, 4) == 0)
        dlen = 10 + below(s, in->format == MRZ_TD1 ? 8 : 5); /* long: overflow into optional data */
    alnum(r->document_number, dlen, s, false);
    if (dlen > 9)
        optroom = optroom >= dlen - 9 + 3 ? optroom - (dlen - 9) - 2 : 0;
    if (optroom > 0 && below(s, 3))
        alnum(r->optional_data, 1 + below(s, optroom), s, !(flags & MRZ_RANDOM_NPM));
    if (in->format == MRZ_TD1 && below(s, 2))
        alnum(r->optional_data_2, 1 + below(s, 11), s, !(flags & MRZ_RANDOM_NPM));

    in->document_code = r->document_code;
    in->issuing_state = r->issuing_state;
    in->nationality = r->nationality;
    in->primary_identifier = r->primary;
    in->secondary_identifier = r->secondary[0] ? r->secondary : NULL;
    in->document_number = r->document_number;
    in->optional_data = r->optional_data[0] ? r->optional_data : NULL;
    in->optional_data_2 = r->optional_data_2[0] ? r->optional_data_2 : NULL;
}
