/* civreg issuance: MRZ generation and strict parsing (ICAO Doc 9303 Part 3
 * common rules; Part 4 TD3, Part 5 TD1, Part 6 TD2, Part 7 MRV-A/MRV-B).
 *
 * Both directions work on a grid of at most 3 x 44 characters described by
 * one layout row per format, so that generation and parsing cannot disagree
 * about where a field sits.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "core/translit.h"
#include "countries.h"
#include "mrz.h"
#include "mrz_int.h"

struct span {
    int line, col, len;
};

struct layout {
    const char *name;
    int lines, width;
    struct span names;
    struct span docnum;    /* 9 characters; check digit right after */
    struct span nat;
    struct span dob;       /* 6; check after; sex after that */
    struct span exp;       /* 6; check after */
    struct span opt;       /* optional data (TD3: personal number) */
    struct span opt2;      /* TD1 line 2 optional data; len 0 elsewhere */
    int opt_check_col;     /* TD3 personal-number check digit (line 2), else -1 */
    int composite_col;     /* on the last line of DOB, else -1 */
    struct span composite[4];
    int ncomposite;
    const char *codes;     /* allowed first characters of the document code */
};

/* Positions are 0-based here; messages and results give 1-based columns. */
static const struct layout layouts[] = {
    [MRZ_TD1] = { "TD1", 3, 30, { 2, 0, 30 }, { 0, 5, 9 }, { 1, 15, 3 }, { 1, 0, 6 }, { 1, 8, 6 },
                  { 0, 15, 15 }, { 1, 18, 11 }, -1, 29,
                  /* Doc 9303-5 4.2.2: upper line 6-30, middle line 1-7, 9-15, 19-29 */
                  { { 0, 5, 25 }, { 1, 0, 7 }, { 1, 8, 7 }, { 1, 18, 11 } }, 4, "ACI" },
    [MRZ_TD2] = { "TD2", 2, 36, { 0, 5, 31 }, { 1, 0, 9 }, { 1, 10, 3 }, { 1, 13, 6 }, { 1, 21, 6 },
                  { 1, 28, 7 }, { 0, 0, 0 }, -1, 35,
                  /* Doc 9303-6 4.2.2: lower line 1-10, 14-20, 22-35 */
                  { { 1, 0, 10 }, { 1, 13, 7 }, { 1, 21, 14 } }, 3, "ACI" },
    [MRZ_TD3] = { "TD3", 2, 44, { 0, 5, 39 }, { 1, 0, 9 }, { 1, 10, 3 }, { 1, 13, 6 }, { 1, 21, 6 },
                  { 1, 28, 14 }, { 0, 0, 0 }, 42, 43,
                  /* Doc 9303-4 4.2.2: lower line 1-10, 14-20, 22-43 */
                  { { 1, 0, 10 }, { 1, 13, 7 }, { 1, 21, 22 } }, 3, "P" },
    [MRZ_MRVA] = { "MRV-A", 2, 44, { 0, 5, 39 }, { 1, 0, 9 }, { 1, 10, 3 }, { 1, 13, 6 }, { 1, 21, 6 },
                   { 1, 28, 16 }, { 0, 0, 0 }, -1, -1, { { 0 } }, 0, "V" },
    [MRZ_MRVB] = { "MRV-B", 2, 36, { 0, 5, 31 }, { 1, 0, 9 }, { 1, 10, 3 }, { 1, 13, 6 }, { 1, 21, 6 },
                   { 1, 28, 8 }, { 0, 0, 0 }, -1, -1, { { 0 } }, 0, "V" },
};

const char *mrz_format_name(enum mrz_format f)
{
    return (unsigned)f <= MRZ_MRVB ? layouts[f].name : "?";
}

int mrz_format_parse(const char *name, enum mrz_format *f, struct err *err)
{
    for (int i = MRZ_TD1; i <= MRZ_MRVB; i++)
        if (name && strcmp(name, layouts[i].name) == 0) {
            *f = (enum mrz_format)i;
            return 0;
        }
    return err_set(err, "format: '%s' is not one of TD1, TD2, TD3, MRV-A, MRV-B", name ? name : "");
}

int mrz_format_lines(enum mrz_format f)
{
    return (unsigned)f <= MRZ_MRVB ? layouts[f].lines : 0;
}

int mrz_format_width(enum mrz_format f)
{
    return (unsigned)f <= MRZ_MRVB ? layouts[f].width : 0;
}

/* Doc 9303-3 4.9: weights 7, 3, 1 repeating; '<' = 0, A-Z = 10..35. */
int mrz_check_digit(const char *s, size_t len)
{
    static const int weight[3] = { 7, 3, 1 };
    unsigned sum = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        unsigned v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'A' && c <= 'Z')
            v = c - 'A' + 10;
        else if (c == '<')
            v = 0;
        else
            return -1;
        sum += v * (unsigned)weight[i % 3];
    }
    return '0' + (int)(sum % 10);
}

static void today_or(const struct mrz_date *today, struct mrz_date *out)
{
    if (today && date_valid(today->year, today->month, today->day)) {
        *out = *today;
        return;
    }
    date_today(&out->year, &out->month, &out->day);
}

static int date_cmp(const struct mrz_date *a, const struct mrz_date *b)
{
    if (a->year != b->year)
        return a->year < b->year ? -1 : 1;
    if (a->month != b->month)
        return a->month < b->month ? -1 : 1;
    return a->day < b->day ? -1 : a->day > b->day;
}

/* Century inference. Birth: the latest century that keeps the date on or
 * before TODAY (a birth date is never in the future). Expiry: the century
 * that puts the year within TODAY's year - 49 .. + 50 (documents valid for
 * up to a few decades, expired ones read back for decades). */
static int birth_year(int yy, int mm, int dd, const struct mrz_date *today)
{
    struct mrz_date d = { today->year - today->year % 100 + yy, mm, dd };
    if (date_cmp(&d, today) > 0)
        d.year -= 100;
    return d.year;
}

static int expiry_year(int yy, const struct mrz_date *today)
{
    int y = today->year - today->year % 100 + yy;
    if (y > today->year + 50)
        y -= 100;
    else if (y <= today->year - 50)
        y += 100;
    return y;
}

/* ---------------------------------------------------------------- grid */

struct grid {
    char c[3][45];
};

static void put(struct grid *g, struct span s, const char *text, size_t len)
{
    for (int i = 0; i < s.len; i++)
        g->c[s.line][s.col + i] = (size_t)i < len ? text[i] : '<';
}

static void put_char(struct grid *g, int line, int col, char ch)
{
    g->c[line][col] = ch;
}

static void put_date(struct grid *g, struct span s, const struct mrz_date *d)
{
    char t[16];
    /* cannot truncate: each field reduced mod 100: 6 digits */
    (void)snprintf(t, sizeof t, "%02d%02d%02d", (d->year % 100 + 100) % 100, d->month % 100, d->day % 100);
    put(g, s, t, 6);
}

static char span_check(const struct grid *g, struct span s)
{
    return (char)mrz_check_digit(&g->c[s.line][s.col], (size_t)s.len);
}

static char composite_check(const struct grid *g, const struct layout *L)
{
    char tmp[64];
    size_t n = 0;
    for (int i = 0; i < L->ncomposite; i++) {
        memcpy(tmp + n, &g->c[L->composite[i].line][L->composite[i].col], (size_t)L->composite[i].len);
        n += (size_t)L->composite[i].len;
    }
    return (char)mrz_check_digit(tmp, n);
}

/* ---------------------------------------------------------- generation */

static bool all_in(const char *s, const char *set)
{
    for (; *s; s++)
        if (strchr(set, *s) == NULL)
            return false;
    return true;
}

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define ALPHA "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

static int check_code(const char *field, const char *v, struct err *err)
{
    if (v == NULL || *v == '\0')
        return err_set(err, "%s: missing", field);
    if (strlen(v) > 3 || !all_in(v, ALPHA))
        return err_set(err, "%s: '%s' is not a 1-3 letter code (A-Z)", field, v);
    if (mrz_country_find(v) == NULL)
        return err_set(err, "%s: '%s' is not an ISO 3166-1 alpha-3 code nor an ICAO Doc 9303 code", field, v);
    return 0;
}

/* Cut the component list X (letters, single '<' between components) to N
 * characters so that the last one is a letter (Doc 9303-3 4.6: a truncated
 * name field ends in an alphabetic character). When the cut falls on a
 * separator, the component before it gives up its last letter to make room
 * for the initial of the next one ("ANNA<MARIA" in 5 -> "ANN<M"). */
static size_t cut_components(const char *x, size_t xlen, size_t n, char *out)
{
    if (xlen <= n) {
        memcpy(out, x, xlen);
        return xlen;
    }
    memcpy(out, x, n);
    if (n >= 3 && out[n - 1] == '<' && out[n - 2] != '<' && out[n - 3] != '<') {
        out[n - 2] = '<';
        out[n - 1] = x[n];
    } else {
        while (n > 0 && out[n - 1] == '<')
            n--;
    }
    return n;
}

/* Doc 9303-3 4.6: primary identifier, "<<", secondary identifier; when the
 * names do not fit, the secondary identifier is truncated first, and the
 * primary only as far as needed to keep "<<" and one secondary letter. */
static void build_names(const char *p, size_t plen, const char *s, size_t slen, size_t width,
                        char *field, bool *truncated)
{
    size_t n = 0;

    *truncated = false;
    if (slen == 0) {
        n = cut_components(p, plen, width, field);
        *truncated = plen > width;
    } else if (plen + 2 + slen <= width) {
        memcpy(field, p, plen);
        memcpy(field + plen, "<<", 2);
        memcpy(field + plen + 2, s, slen);
        n = plen + 2 + slen;
    } else {
        size_t pn;
        *truncated = true;
        if (plen + 3 <= width) {
            memcpy(field, p, plen);
            pn = plen;
        } else {
            pn = cut_components(p, plen, width - 3, field);
        }
        memcpy(field + pn, "<<", 2);
        n = pn + 2 + cut_components(s, slen, width - pn - 2, field + pn + 2);
    }
    for (size_t i = n; i < width; i++)
        field[i] = '<';
}

static int warn(struct buf *w, struct err *err, const char *field, const char *msg)
{
    if (w == NULL)
        return 0;
    if (buf_printf(w, "%s: %s\n", field, msg) != 0)
        return err_set(err, "warnings: out of memory or too long");
    return 0;
}

int mrz_generate(const struct mrz_input *in, const struct mrz_date *today_in, struct buf *lines,
                 struct buf *warnings, struct err *err)
{
    struct buf pbuf = BUF_INIT(1024), sbuf = BUF_INIT(1024);
    const struct layout *L;
    struct mrz_date today;
    struct grid g;
    char names[45], tmp[64];
    size_t dlen, olen = 0, o2len = 0, optmax;
    bool truncated;
    int rc = -1;

    if (in == NULL || (unsigned)in->format > MRZ_MRVB)
        return err_set(err, "format: unknown");
    L = &layouts[in->format];
    today_or(today_in, &today);
    memset(&g, '<', sizeof g);

    /* Document code: Doc 9303-4/5/6/7 4.2.2 (P, V; A, C or I for cards). */
    if (in->document_code == NULL || in->document_code[0] == '\0')
        return err_set(err, "document_code: missing");
    if (strlen(in->document_code) > 2 || !all_in(in->document_code, ALPHA "<") ||
        strchr(L->codes, in->document_code[0]) == NULL)
        return err_set(err, "document_code: '%s' is not valid for %s (first letter one of %s, then a letter or '<')",
                       in->document_code, L->name, L->codes);
    put(&g, (struct span){ 0, 0, 2 }, in->document_code, strlen(in->document_code));

    if (check_code("issuing_state", in->issuing_state, err) != 0 ||
        check_code("nationality", in->nationality, err) != 0)
        return -1;
    put(&g, (struct span){ 0, 2, 3 }, in->issuing_state, strlen(in->issuing_state));
    put(&g, L->nat, in->nationality, strlen(in->nationality));

    /* Names. */
    if (in->primary_identifier == NULL || in->primary_identifier[0] == '\0')
        return err_set(err, "primary_identifier: missing");
    if (translit_mrz_field(in->primary_identifier, strlen(in->primary_identifier),
                           "primary_identifier", &pbuf, warnings, err) != 0) {
        err_prefix(err, "primary_identifier");
        goto out;
    }
    if (pbuf.len == 0) {
        err_set(err, "primary_identifier: no letters after transliteration");
        goto out;
    }
    if (in->secondary_identifier != NULL &&
        translit_mrz_field(in->secondary_identifier, strlen(in->secondary_identifier),
                           "secondary_identifier", &sbuf, warnings, err) != 0) {
        err_prefix(err, "secondary_identifier");
        goto out;
    }
    build_names(buf_str(&pbuf), pbuf.len, buf_str(&sbuf), sbuf.len, (size_t)L->names.len, names,
                &truncated);
    if (truncated && warn(warnings, err, "name",
                          "truncated to fit the MRZ name field (Doc 9303-3 4.6)") != 0)
        goto out;
    put(&g, L->names, names, (size_t)L->names.len);

    /* Optional data (validated before the document number, which may need
     * its room in TD1/TD2). */
    optmax = (size_t)L->opt.len;
    if (in->optional_data) {
        olen = strlen(in->optional_data);
        while (olen > 0 && in->optional_data[olen - 1] == '<')
            olen--;
        if (!all_in(in->optional_data, ALNUM "<") || (olen > 0 && in->optional_data[0] == '<')) {
            err_set(err, "optional_data: only A-Z, 0-9 and '<' between characters are allowed");
            goto out;
        }
    }
    if (in->optional_data_2 && in->optional_data_2[0] != '\0') {
        if (in->format != MRZ_TD1) {
            err_set(err, "optional_data_2: only TD1 has a second optional data field");
            goto out;
        }
        o2len = strlen(in->optional_data_2);
        while (o2len > 0 && in->optional_data_2[o2len - 1] == '<')
            o2len--;
        if (!all_in(in->optional_data_2, ALNUM "<") || o2len > (size_t)L->opt2.len) {
            err_set(err, "optional_data_2: at most %d of A-Z, 0-9, '<'", L->opt2.len);
            goto out;
        }
        put(&g, L->opt2, in->optional_data_2, o2len);
    }

    /* Document number: Doc 9303-5/6 4.2.4 note: longer than 9 characters
     * (TD1/TD2 only), '<' in the check digit position and the rest,
     * followed by the check digit, at the start of the optional data. */
    if (in->document_number == NULL || in->document_number[0] == '\0') {
        err_set(err, "document_number: missing");
        goto out;
    }
    dlen = strlen(in->document_number);
    if (!all_in(in->document_number, ALNUM)) {
        err_set(err, "document_number: '%s' has characters other than A-Z and 0-9", in->document_number);
        goto out;
    }
    if (dlen <= 9) {
        put(&g, L->docnum, in->document_number, dlen);
        put_char(&g, L->docnum.line, L->docnum.col + 9, span_check(&g, L->docnum));
        if (olen > optmax) {
            err_set(err, "optional_data: %zu characters, %s has room for %zu", olen, L->name, optmax);
            goto out;
        }
        put(&g, L->opt, in->optional_data, olen);
    } else {
        size_t rest = dlen - 9, need = rest + 1 + (olen ? 1 + olen : 0);
        if (in->format != MRZ_TD1 && in->format != MRZ_TD2) {
            err_set(err, "document_number: %zu characters, %s allows at most 9", dlen, L->name);
            goto out;
        }
        if (need > optmax) {
            err_set(err, "document_number: %zu characters with %zu of optional data do not fit %s "
                         "(the document number's overflow and check digit share the %zu optional characters)",
                    dlen, olen, L->name, optmax);
            goto out;
        }
        put(&g, L->docnum, in->document_number, 9);
        put_char(&g, L->docnum.line, L->docnum.col + 9, '<');
        memcpy(tmp, in->document_number + 9, rest);
        tmp[rest] = (char)mrz_check_digit(in->document_number, dlen);
        if (olen) {
            tmp[rest + 1] = '<';
            memcpy(tmp + rest + 2, in->optional_data, olen);
        }
        put(&g, L->opt, tmp, need);
    }
    if (L->opt_check_col >= 0) {
        /* Doc 9303-4 4.2.2.3: an empty personal number's check digit is '<'. */
        put_char(&g, L->opt.line, L->opt_check_col, olen ? span_check(&g, L->opt) : '<');
    }

    /* Dates and sex. */
    if (!date_valid(in->date_of_birth.year, in->date_of_birth.month, in->date_of_birth.day)) {
        err_set(err, "date_of_birth: not a valid date");
        goto out;
    }
    if (!date_valid(in->date_of_expiry.year, in->date_of_expiry.month, in->date_of_expiry.day)) {
        err_set(err, "date_of_expiry: not a valid date");
        goto out;
    }
    if (date_cmp(&in->date_of_birth, &today) > 0) {
        err_set(err, "date_of_birth: %04d-%02d-%02d is in the future", in->date_of_birth.year,
                in->date_of_birth.month, in->date_of_birth.day);
        goto out;
    }
    if (date_cmp(&in->date_of_expiry, &in->date_of_birth) <= 0) {
        err_set(err, "date_of_expiry: not after date_of_birth");
        goto out;
    }
    if (birth_year(in->date_of_birth.year % 100, in->date_of_birth.month, in->date_of_birth.day,
                   &today) != in->date_of_birth.year &&
        warn(warnings, err, "date_of_birth",
             "more than 100 years ago; readers will infer another century from YYMMDD") != 0)
        goto out;
    if (expiry_year(in->date_of_expiry.year % 100, &today) != in->date_of_expiry.year &&
        warn(warnings, err, "date_of_expiry",
             "more than 50 years from today; readers will infer another century from YYMMDD") != 0)
        goto out;
    put_date(&g, L->dob, &in->date_of_birth);
    put_char(&g, L->dob.line, L->dob.col + 6, span_check(&g, L->dob));
    if (in->sex != 'F' && in->sex != 'M' && in->sex != 'X' && in->sex != '<') {
        err_set(err, "sex: must be F, M, X or < (unspecified)");
        goto out;
    }
    put_char(&g, L->dob.line, L->dob.col + 7, in->sex);
    put_date(&g, L->exp, &in->date_of_expiry);
    put_char(&g, L->exp.line, L->exp.col + 6, span_check(&g, L->exp));
    if (L->composite_col >= 0)
        put_char(&g, L->lines - (in->format == MRZ_TD1 ? 2 : 1), L->composite_col, composite_check(&g, L));

    for (int l = 0; l < L->lines; l++) {
        if ((l > 0 && buf_append_byte(lines, '\n') != 0) ||
            buf_append(lines, g.c[l], (size_t)L->width) != 0) {
            err_set(err, "mrz: output buffer full");
            goto out;
        }
    }
    rc = 0;
out:
    buf_release(&pbuf);
    buf_release(&sbuf);
    return rc;
}

static int get_date(const json_t *obj, const char *key, struct mrz_date *d, struct err *err)
{
    const char *s = NULL;
    if (json_get_string(obj, key, true, &s, err) != 0 ||
        date_parse(s, &d->year, &d->month, &d->day, err) != 0)
        return err_prefix(err, "%s", key);
    return 0;
}

int mrz_generate_json(const json_t *input, struct buf *lines, struct buf *warnings, struct err *err)
{
    static const char *const keys[] = { "format", "document_code", "issuing_state", "primary_identifier",
                                        "secondary_identifier", "document_number", "nationality",
                                        "date_of_birth", "sex", "date_of_expiry", "optional_data",
                                        "optional_data_2", NULL };
    struct mrz_input in;
    const char *format = NULL, *sex = NULL;

    memset(&in, 0, sizeof in);
    if (!json_is_object(input))
        return err_set(err, "input: expected a JSON object");
    if (json_check_keys(input, keys, err) != 0 || json_get_string(input, "format", true, &format, err) != 0 ||
        mrz_format_parse(format, &in.format, err) != 0)
        return -1;
#define STR(k, req)                                                                                \
    if (json_get_string(input, #k, req, &in.k, err) != 0)                                          \
        return -1;
    STR(document_code, true)
    STR(issuing_state, true)
    STR(primary_identifier, true)
    STR(secondary_identifier, false)
    STR(document_number, true)
    STR(nationality, true)
    STR(optional_data, false)
    STR(optional_data_2, false)
#undef STR
    if (json_get_string(input, "sex", true, &sex, err) != 0)
        return -1;
    if (strlen(sex) != 1)
        return err_set(err, "sex: must be F, M, X or < (unspecified)");
    in.sex = sex[0];
    if (get_date(input, "date_of_birth", &in.date_of_birth, err) != 0 ||
        get_date(input, "date_of_expiry", &in.date_of_expiry, err) != 0)
        return -1;
    return mrz_generate(&in, NULL, lines, warnings, err);
}

/* ------------------------------------------------------------- parsing */

struct parser {
    struct mrz_result *res;
    const struct layout *L;
    struct grid g;     /* sanitized: every character in [A-Z0-9<] */
    struct mrz_date today;
};

static void add_error(struct parser *p, const char *field, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void add_error(struct parser *p, const char *field, int line, int col, const char *fmt, ...)
{
    struct mrz_result *r = p->res;
    va_list ap;

    r->valid = false;
    if (r->nerrors >= MRZ_ERRORS_MAX) {
        r->nerrors_lost++;
        return;
    }
    struct mrz_error *e = &r->errors[r->nerrors++];
    e->field = field;
    e->line = line + 1;
    e->column = col + 1;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

static void add_check(struct parser *p, const char *field, char expected, char found, bool valid)
{
    struct mrz_result *r = p->res;
    if (r->nchecks < sizeof r->checks / sizeof r->checks[0])
        r->checks[r->nchecks++] = (struct mrz_check){ field, expected, found, valid };
    if (!valid)
        r->valid = false;
}

static const char *at(const struct parser *p, struct span s)
{
    return &p->g.c[s.line][s.col];
}

/* Which field a grid position belongs to (for invalid-character errors). */
static const char *field_at(const struct layout *L, int line, int col)
{
    struct {
        struct span s;
        const char *name;
    } f[] = {
        { { 0, 0, 2 }, "document_code" },
        { { 0, 2, 3 }, "issuing_state" },
        { L->names, "name" },
        { L->docnum, "document_number" },
        { { L->docnum.line, L->docnum.col + 9, 1 }, "document_number_check" },
        { L->nat, "nationality" },
        { L->dob, "date_of_birth" },
        { { L->dob.line, L->dob.col + 6, 1 }, "date_of_birth_check" },
        { { L->dob.line, L->dob.col + 7, 1 }, "sex" },
        { L->exp, "date_of_expiry" },
        { { L->exp.line, L->exp.col + 6, 1 }, "date_of_expiry_check" },
        { L->opt, "optional_data" },
        { L->opt2, "optional_data_2" },
        { { L->opt.line, L->opt_check_col, 1 }, "optional_data_check" },
        { { L->lines == 3 ? 1 : L->lines - 1, L->composite_col, 1 }, "composite_check" },
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].s.len > 0 && f[i].s.col >= 0 && f[i].s.line == line && col >= f[i].s.col &&
            col < f[i].s.col + f[i].s.len)
            return f[i].name;
    return "filler";
}

/* Copy a span without trailing fillers; false when a '<' sits between other
 * characters. */
static bool copy_trimmed(const char *s, int len, char *out, size_t outsize)
{
    int n = len;
    bool inner = false;
    while (n > 0 && s[n - 1] == '<')
        n--;
    if ((size_t)n >= outsize)
        n = (int)outsize - 1;
    for (int i = 0; i < n; i++) {
        out[i] = s[i];
        if (s[i] == '<')
            inner = true;
    }
    out[n] = '\0';
    return !inner;
}

static void parse_code(struct parser *p, const char *field, struct span s, char *out)
{
    const char *c = at(p, s);
    bool ok = copy_trimmed(c, s.len, out, 4) && out[0] != '\0' && all_in(out, ALPHA);
    if (!ok)
        add_error(p, field, s.line, s.col, "'%.3s' is not a code of letters with '<' fillers", c);
    else if (mrz_country_find(out) == NULL)
        add_error(p, field, s.line, s.col, "'%s' is not an ISO 3166-1 alpha-3 code nor an ICAO Doc 9303 code",
                  out);
}

static void names_out(const char *s, size_t n, char *out, size_t outsize)
{
    size_t k = 0;
    bool sep = false;
    for (size_t i = 0; i < n && k + 2 < outsize; i++) {
        if (s[i] == '<') {
            sep = k > 0;
            continue;
        }
        if (sep)
            out[k++] = ' ';
        sep = false;
        out[k++] = s[i];
    }
    out[k] = '\0';
}

static void parse_names(struct parser *p)
{
    const struct span s = p->L->names;
    const char *c = at(p, s);
    struct mrz_fields *f = &p->res->fields;
    int split = -1;

    for (int i = 0; i < s.len; i++) {
        if (c[i] >= '0' && c[i] <= '9') {
            add_error(p, "name", s.line, s.col + i, "digit '%c' in the name field", c[i]);
            return;
        }
    }
    for (int i = 0; i + 1 < s.len; i++)
        if (c[i] == '<' && c[i + 1] == '<') {
            split = i;
            break;
        }
    if (split == 0 || c[0] == '<') {
        add_error(p, "name", s.line, s.col, "the primary identifier is empty");
        return;
    }
    if (split < 0) {
        names_out(c, (size_t)s.len, f->primary_identifier, sizeof f->primary_identifier);
        return;
    }
    names_out(c, (size_t)split, f->primary_identifier, sizeof f->primary_identifier);
    names_out(c + split + 2, (size_t)(s.len - split - 2), f->secondary_identifier,
              sizeof f->secondary_identifier);
}

/* A check digit: verify it against the computed one. */
static void verify_check(struct parser *p, const char *check_field, const char *name, int line, int col,
                         char expected, char *store)
{
    char found = p->g.c[line][col];
    *store = found;
    if (found < '0' || found > '9') {
        add_error(p, check_field, line, col, "check digit '%c' is not a digit", found);
        add_check(p, name, expected, found, false);
        return;
    }
    if (found != expected)
        add_error(p, check_field, line, col, "check digit is %c, the data gives %c", found, expected);
    add_check(p, name, expected, found, found == expected);
}

static void parse_date(struct parser *p, const char *field, struct span s, bool birth, struct mrz_date *d)
{
    const char *c = at(p, s);
    int v[3];

    memset(d, 0, sizeof *d);
    for (int i = 0; i < 6; i++)
        if (c[i] < '0' || c[i] > '9') {
            add_error(p, field, s.line, s.col + i, "'%c' in a YYMMDD date", c[i]);
            return;
        }
    for (int i = 0; i < 3; i++)
        v[i] = (c[2 * i] - '0') * 10 + (c[2 * i + 1] - '0');
    if (v[1] < 1 || v[1] > 12) {
        add_error(p, field, s.line, s.col + 2, "month %02d does not exist", v[1]);
        return;
    }
    int y = birth ? birth_year(v[0], v[1], v[2] > 28 ? 28 : v[2], &p->today) : expiry_year(v[0], &p->today);
    if (!date_valid(y, v[1], v[2])) {
        add_error(p, field, s.line, s.col + 4, "%04d-%02d-%02d does not exist", y, v[1], v[2]);
        return;
    }
    if (birth)
        y = birth_year(v[0], v[1], v[2], &p->today);
    d->year = y;
    d->month = v[1];
    d->day = v[2];
}

static void parse_fields(struct parser *p)
{
    const struct layout *L = p->L;
    struct mrz_fields *f = &p->res->fields;
    char expected;
    int dline = L->docnum.line, dcol = L->docnum.col;
    int optskip = 0; /* optional-data characters taken by a long document number */

    /* Document code. */
    if (strchr(L->codes, p->g.c[0][0]) == NULL || p->g.c[0][0] == '<')
        add_error(p, "document_code", 0, 0, "%s documents start with one of %s, not '%c'", L->name, L->codes,
                  p->g.c[0][0]);
    if (p->g.c[0][1] >= '0' && p->g.c[0][1] <= '9')
        add_error(p, "document_code", 0, 1, "second character must be a letter or '<'");
    f->document_code[0] = p->g.c[0][0];
    f->document_code[1] = p->g.c[0][1] == '<' ? '\0' : p->g.c[0][1];
    f->document_code[2] = '\0';

    parse_code(p, "issuing_state", (struct span){ 0, 2, 3 }, f->issuing_state);
    parse_names(p);

    /* Document number. */
    if (!copy_trimmed(at(p, L->docnum), 9, f->document_number, sizeof f->document_number))
        add_error(p, "document_number", dline, dcol, "'<' between characters of the document number");
    if (f->document_number[0] == '\0')
        add_error(p, "document_number", dline, dcol, "empty");
    if (p->g.c[dline][dcol + 9] == '<' && (p->res->format == MRZ_TD1 || p->res->format == MRZ_TD2) &&
        strlen(f->document_number) == 9) {
        /* Doc 9303-5/6: long document number continued in the optional data. */
        const char *o = at(p, L->opt);
        int n = 0;
        while (n < L->opt.len && o[n] != '<')
            n++;
        if (n < 2) {
            add_error(p, "document_number_check", dline, dcol + 9,
                      "'<' announces a long document number but the optional data does not continue it");
            f->document_number_check = '<';
            add_check(p, "document_number", '?', '<', false);
        } else {
            size_t dl = strlen(f->document_number);
            memcpy(f->document_number + dl, o, (size_t)(n - 1));
            f->document_number[dl + (size_t)(n - 1)] = '\0';
            expected = (char)mrz_check_digit(f->document_number, strlen(f->document_number));
            verify_check(p, "document_number_check", "document_number", L->opt.line, L->opt.col + n - 1,
                         expected, &f->document_number_check);
            optskip = n < L->opt.len ? n + 1 : n;
        }
    } else {
        verify_check(p, "document_number_check", "document_number", dline, dcol + 9,
                     span_check(&p->g, L->docnum), &f->document_number_check);
    }

    parse_code(p, "nationality", L->nat, f->nationality);

    parse_date(p, "date_of_birth", L->dob, true, &f->date_of_birth);
    verify_check(p, "date_of_birth_check", "date_of_birth", L->dob.line, L->dob.col + 6, span_check(&p->g, L->dob),
                 &f->date_of_birth_check);
    f->sex = p->g.c[L->dob.line][L->dob.col + 7];
    if (strchr("FMX<", f->sex) == NULL)
        add_error(p, "sex", L->dob.line, L->dob.col + 7, "'%c' is not F, M, X or <", f->sex);
    parse_date(p, "date_of_expiry", L->exp, false, &f->date_of_expiry);
    verify_check(p, "date_of_expiry_check", "date_of_expiry", L->exp.line, L->exp.col + 6, span_check(&p->g, L->exp),
                 &f->date_of_expiry_check);

    /* Optional data. */
    {
        struct span o = { L->opt.line, L->opt.col + optskip, L->opt.len - optskip };
        copy_trimmed(at(p, o), o.len, f->optional_data, sizeof f->optional_data);
    }
    if (L->opt2.len > 0)
        copy_trimmed(at(p, L->opt2), L->opt2.len, f->optional_data_2, sizeof f->optional_data_2);
    if (L->opt_check_col >= 0) {
        char found = p->g.c[L->opt.line][L->opt_check_col];
        bool empty = f->optional_data[0] == '\0';
        f->optional_data_check = found;
        if (empty && (found == '<' || found == '0')) {
            /* Doc 9303-4 4.2.2.3 note: '<' or 0 for an empty personal number */
            add_check(p, "optional_data", found, found, true);
        } else if (empty) {
            add_error(p, "optional_data_check", L->opt.line, L->opt_check_col,
                      "an empty personal number takes '<' or 0 as check digit, not '%c'", found);
            add_check(p, "optional_data", '<', found, false);
        } else {
            verify_check(p, "optional_data_check", "optional_data", L->opt.line, L->opt_check_col,
                         span_check(&p->g, L->opt), &f->optional_data_check);
        }
    }
    if (L->composite_col >= 0) {
        int cl = p->res->format == MRZ_TD1 ? 1 : L->lines - 1;
        verify_check(p, "composite_check", "composite", cl, L->composite_col, composite_check(&p->g, L),
                     &f->composite_check);
    }
}

/* Split TEXT into trimmed non-empty lines. Returns the number of lines, or
 * -1 when there are more than 3 or one is far too long to be MRZ. */
static int split_lines(const char *text, size_t len, const char *line[3], size_t llen[3])
{
    int n = 0;
    size_t i = 0;

    while (i < len) {
        size_t s = i, e;
        while (i < len && text[i] != '\n')
            i++;
        e = i;
        if (i < len)
            i++;
        while (s < e && (text[s] == ' ' || text[s] == '\t' || text[s] == '\r'))
            s++;
        while (e > s && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r'))
            e--;
        if (e == s)
            continue;
        if (n == 3 || e - s > 100)
            return -1;
        line[n] = text + s;
        llen[n] = e - s;
        n++;
    }
    return n;
}

int mrz_parse(const char *text, size_t len, const struct mrz_date *today, struct mrz_result *res,
              struct err *err)
{
    const char *line[3] = { NULL, NULL, NULL };
    size_t llen[3] = { 0, 0, 0 };
    struct parser p;
    int n, width;

    memset(res, 0, sizeof *res);
    memset(&p, 0, sizeof p);
    p.res = res;
    if (text == NULL)
        return err_set(err, "not an MRZ: no text");
    n = split_lines(text, len, line, llen);
    if (n < 0)
        return err_set(err, "not an MRZ: more than 3 lines or a line of over 100 characters");
    if (n == 1 && (llen[0] == 90 || llen[0] == 72 || llen[0] == 88)) {
        /* All characters on one line (as in DG1): cut into lines. */
        size_t w = llen[0] == 90 ? 30 : llen[0] / 2;
        for (int i = (int)(llen[0] / w) - 1; i >= 0; i--) {
            line[i] = line[0] + (size_t)i * w;
            llen[i] = w;
        }
        n = (int)(llen[0] == 90 ? 3 : 2);
        llen[0] = w;
    }
    if (n == 3) {
        width = 30;
        for (int i = 0; i < 3; i++)
            if (llen[i] < 20 || llen[i] > 40)
                return err_set(err, "not an MRZ: 3 lines, but line %d has %zu characters (TD1 has 30)", i + 1,
                               llen[i]);
        res->format = MRZ_TD1;
    } else if (n == 2) {
        size_t m = llen[0] > llen[1] ? llen[0] : llen[1];
        if (m < 30 || m > 50 || llen[0] < 20 || llen[1] < 20)
            return err_set(err, "not an MRZ: 2 lines of %zu and %zu characters (TD2 and MRV-B have 36, "
                                "TD3 and MRV-A 44)", llen[0], llen[1]);
        width = m >= 40 ? 44 : 36;
        if (line[0][0] == 'V')
            res->format = width == 44 ? MRZ_MRVA : MRZ_MRVB;
        else
            res->format = width == 44 ? MRZ_TD3 : MRZ_TD2;
    } else {
        return err_set(err, "not an MRZ: %d line%s (MRZs have 2 or 3)", n, n == 1 ? "" : "s");
    }
    p.L = &layouts[res->format];
    today_or(today, &p.today);
    res->valid = true;

    /* Lengths and characters: every problem located, then a sanitized grid
     * (bad characters and missing ones read as '<') for the field checks. */
    memset(&p.g, '<', sizeof p.g);
    for (int l = 0; l < n; l++) {
        if (llen[l] != (size_t)width)
            add_error(&p, "line", l, (int)(llen[l] < (size_t)width ? llen[l] : (size_t)width),
                      "line %d has %zu characters, %s lines have %d", l + 1, llen[l], p.L->name, width);
        for (int c = 0; c < width && (size_t)c < llen[l]; c++) {
            unsigned char ch = (unsigned char)line[l][c];
            if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '<') {
                p.g.c[l][c] = (char)ch;
            } else if (ch > 0x20 && ch < 0x7F) {
                add_error(&p, field_at(p.L, l, c), l, c, "character '%c' is not one of A-Z 0-9 <", ch);
            } else {
                add_error(&p, field_at(p.L, l, c), l, c, "byte 0x%02X is not one of A-Z 0-9 <", ch);
            }
        }
    }
    parse_fields(&p);
    return 0;
}

/* ---------------------------------------------------------------- JSON */

static int set_str(json_t *o, const char *k, const char *v)
{
    return json_object_set_new(o, k, json_string(v));
}

static int set_char(json_t *o, const char *k, char c)
{
    char s[2] = { c, '\0' };
    if (c == '\0')
        return 0;
    return set_str(o, k, s);
}

static int set_date(json_t *o, const char *k, const struct mrz_date *d)
{
    char s[16];
    if (d->year == 0)
        return json_object_set_new(o, k, json_null());
    /* cannot truncate: a validated date: 10 characters */
    (void)snprintf(s, sizeof s, "%04d-%02d-%02d", d->year, d->month, d->day);
    return set_str(o, k, s);
}

int mrz_result_json(const struct mrz_result *r, json_t **out, struct err *err)
{
    const struct mrz_fields *f = &r->fields;
    json_t *o = json_object(), *fields = json_object(), *checks = json_array(), *errors = json_array();
    int bad = 0;

    *out = NULL;
    if (!o || !fields || !checks || !errors)
        goto fail;
    bad |= set_str(o, "format", mrz_format_name(r->format));
    bad |= json_object_set_new(o, "valid", json_boolean(r->valid));
    bad |= set_str(fields, "document_code", f->document_code);
    bad |= set_str(fields, "issuing_state", f->issuing_state);
    bad |= set_str(fields, "primary_identifier", f->primary_identifier);
    bad |= set_str(fields, "secondary_identifier", f->secondary_identifier);
    bad |= set_str(fields, "document_number", f->document_number);
    bad |= set_char(fields, "document_number_check", f->document_number_check);
    bad |= set_str(fields, "nationality", f->nationality);
    bad |= set_date(fields, "date_of_birth", &f->date_of_birth);
    bad |= set_char(fields, "date_of_birth_check", f->date_of_birth_check);
    bad |= set_char(fields, "sex", f->sex);
    bad |= set_date(fields, "date_of_expiry", &f->date_of_expiry);
    bad |= set_char(fields, "date_of_expiry_check", f->date_of_expiry_check);
    bad |= set_str(fields, "optional_data", f->optional_data);
    bad |= set_char(fields, "optional_data_check", f->optional_data_check);
    if (r->format == MRZ_TD1)
        bad |= set_str(fields, "optional_data_2", f->optional_data_2);
    bad |= set_char(fields, "composite_check", f->composite_check);
    for (size_t i = 0; i < r->nchecks; i++) {
        const struct mrz_check *c = &r->checks[i];
        char e[2] = { c->expected, 0 }, fo[2] = { c->found, 0 };
        json_t *j = json_pack("{s:s,s:s,s:s,s:b}", "field", c->field, "expected", e, "found", fo, "valid",
                              c->valid);
        bad |= j == NULL || json_array_append_new(checks, j);
    }
    for (size_t i = 0; i < r->nerrors; i++) {
        const struct mrz_error *e = &r->errors[i];
        json_t *j = json_pack("{s:s,s:i,s:i,s:s}", "field", e->field, "line", e->line, "column", e->column,
                              "message", e->message);
        bad |= j == NULL || json_array_append_new(errors, j);
    }
    if (r->nerrors_lost) {
        json_t *j = json_pack("{s:s,s:i,s:i,s:s}", "field", "mrz", "line", 1, "column", 1, "message",
                              "further errors not listed");
        bad |= j == NULL || json_array_append_new(errors, j);
    }
    bad |= json_object_set_new(o, "fields", fields);
    fields = NULL;
    bad |= json_object_set_new(o, "checks", checks);
    checks = NULL;
    bad |= json_object_set_new(o, "errors", errors);
    errors = NULL;
    if (bad)
        goto fail;
    *out = o;
    return 0;
fail:
    json_decref(o);
    json_decref(fields);
    json_decref(checks);
    json_decref(errors);
    return err_set(err, "mrz: out of memory building JSON");
}
