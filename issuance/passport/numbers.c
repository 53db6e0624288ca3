/* Document numbers: a configurable pattern per document type, one
 * sequence that only grows, allocation inside the approving transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "office_int.h"

#define SEQ_MIN_DIGITS 3
#define SEQ_MAX_DIGITS 9

int office_doc_type_check(const char *doc_type, struct err *err)
{
    if (doc_type && (strcmp(doc_type, "TD3") == 0 || strcmp(doc_type, "TD1") == 0))
        return 0;
    return err_set(err, "document type '%s': TD3 (passport) or TD1 (identity card)",
                   doc_type ? doc_type : "");
}

/* Doc 9303-4 (TD3): the document number field holds 9 characters. Doc
 * 9303-5 (TD1) lets longer numbers run on into the optional data; civreg
 * caps them at 22 so the overflow leaves room for the check digit. */
static size_t max_length(const char *doc_type)
{
    return strcmp(doc_type, "TD3") == 0 ? 9 : 22;
}

static int is_mrz_alnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Walk PATTERN: calls back the literal runs and placeholders. Fills the
 * expanded length and whether {seq} appeared once. */
struct pattern_info {
    size_t length;  /* characters produced */
    int seq_count;
    int seq_digits;
    int has_office, has_year;
};

static int pattern_scan(const char *p, const char *office, struct pattern_info *pi,
                        struct err *err)
{
    memset(pi, 0, sizeof *pi);
    if (p == NULL || *p == '\0')
        return err_set(err, "number pattern: empty");
    while (*p) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            size_t n;
            if (end == NULL)
                return err_set(err, "number pattern: '{' without '}'");
            n = (size_t)(end - p - 1);
            if (n == 3 && strncmp(p + 1, "seq", 3) == 0) {
                return err_set(err, "number pattern: {seq} needs its digit count, e.g. {seq:7}");
            } else if (n == 5 && strncmp(p + 1, "seq:", 4) == 0 && p[5] >= '0' && p[5] <= '9') {
                int d = p[5] - '0';
                if (d < SEQ_MIN_DIGITS || d > SEQ_MAX_DIGITS)
                    return err_set(err, "number pattern: {seq:%d}: %d to %d digits", d,
                                   SEQ_MIN_DIGITS, SEQ_MAX_DIGITS);
                pi->seq_count++;
                pi->seq_digits = d;
                pi->length += (size_t)d;
            } else if (n == 6 && strncmp(p + 1, "office", 6) == 0) {
                if (office == NULL || *office == '\0')
                    return err_set(err, "number pattern: {office} but no office code");
                for (const char *o = office; *o; o++)
                    if (!is_mrz_alnum(*o))
                        return err_set(err, "number pattern: office code '%s' is not A-Z 0-9",
                                       office);
                pi->has_office = 1;
                pi->length += strlen(office);
            } else if (n == 2 && strncmp(p + 1, "yy", 2) == 0) {
                pi->has_year = 1;
                pi->length += 2;
            } else {
                return err_set(err, "number pattern: unknown placeholder '%.*s'",
                               (int)(n + 2 > 20 ? 20 : n + 2), p);
            }
            p = end + 1;
            continue;
        }
        if (!is_mrz_alnum(*p))
            return err_set(err, "number pattern: '%c' is not allowed: literal characters are "
                                "A-Z and 0-9 (no filler '<' inside a number)", *p);
        pi->length++;
        p++;
    }
    if (pi->seq_count != 1)
        return err_set(err, "number pattern: {seq:N} must appear exactly once (found %d)",
                       pi->seq_count);
    return 0;
}

int office_number_pattern_check(const char *pattern, const char *doc_type, const char *office,
                                struct err *err)
{
    struct pattern_info pi;

    if (office_doc_type_check(doc_type, err) != 0)
        return -1;
    if (pattern_scan(pattern, office, &pi, err) != 0)
        return -1;
    if (pi.length > max_length(doc_type))
        return err_set(err, "number pattern: numbers of %zu characters do not fit the %s MRZ "
                            "(at most %zu)", pi.length, doc_type, max_length(doc_type));
    return 0;
}

int office_number_format(const char *pattern, const char *office, int year, uint64_t seq,
                         char out[32], struct err *err)
{
    struct pattern_info pi;
    size_t n = 0;
    uint64_t limit = 1;

    if (pattern_scan(pattern, office, &pi, err) != 0)
        return -1;
    if (pi.length >= 32)
        return err_set(err, "number pattern: too long");
    for (int i = 0; i < pi.seq_digits; i++)
        limit *= 10;
    if (seq == 0 || seq >= limit)
        return err_set(err, "document numbers exhausted: sequence %llu does not fit {seq:%d}; "
                            "set a new pattern with `civreg document series`",
                       (unsigned long long)seq, pi.seq_digits);
    for (const char *p = pattern; *p;) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            if (p[1] == 's')
                n += (size_t)snprintf(out + n, 32 - n, "%0*llu", pi.seq_digits,
                                      (unsigned long long)seq);
            else if (p[1] == 'o')
                n += (size_t)snprintf(out + n, 32 - n, "%s", office);
            else
                n += (size_t)snprintf(out + n, 32 - n, "%02d", ((year % 100) + 100) % 100);
            p = end + 1;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    return 0;
}

/* The default series: the office code then the sequence, 9 characters in
 * all (office codes are unique nationally, so numbers are too). Offices
 * whose code leaves fewer than 5 digits must configure a pattern. */
static int default_pattern(const char *doc_type, const char *office, char out[48],
                           struct err *err)
{
    size_t olen = office ? strlen(office) : 0;
    const size_t total = 9; /* fits TD3 and TD1 without overflow */

    if (olen == 0 || olen + 5 > total)
        return err_set(err, "no %s number pattern configured and office code '%s' is too long "
                            "for the default: set one with `civreg document series`",
                       doc_type, office ? office : "");
    /* cannot truncate: fixed text and one size_t: well under 48 */
    (void)snprintf(out, 48, "{office}{seq:%zu}", total - olen);
    return 0;
}

struct series_ctx {
    const struct office_actor *actor;
    const char *doc_type, *pattern;
    char *number; /* office_number_allocate: the number allocated (32 bytes) */
};

static int series_set_tx(struct db *db, void *arg, struct err *err)
{
    const struct series_ctx *c = arg;
    const struct office_actor *actor = c->actor;
    const char *doc_type = c->doc_type, *pattern = c->pattern;
    char now[TIME_ISO8601_LEN + 1];

    office_now(db, now);
    if (db_run(db,
               "INSERT INTO doc_number_series (doc_type, pattern, next_seq, updated_at, "
               "updated_by) VALUES (?1, ?2, 1, ?3, ?4) ON CONFLICT(doc_type) DO UPDATE "
               "SET pattern = ?2, updated_at = ?3, updated_by = ?4",
               "number series", err, "ssss", doc_type, pattern, now, actor->username) != 0)
        return -1;
    return office_log(db, actor, "document.series.set",
                      json_pack("{s:s, s:s}", "doc_type", doc_type, "pattern", pattern), err,
                      "number_series", doc_type, NULL);
}

int office_number_series_set(struct db *db, const struct office_actor *actor,
                             const char *doc_type, const char *pattern, struct err *err)
{
    struct series_ctx c = { actor, doc_type, pattern, NULL };

    if (office_require(actor, registry_action_roles("numbers.manage"), "set document number patterns", err) != 0 ||
        office_number_pattern_check(pattern, doc_type, actor->office, err) != 0)
        return -1;
    return db_tx_run(db, series_set_tx, &c, err);
}

/* A document type's series as {doc_type, pattern, next_seq, configured}:
 * the one stored, or the default (with the problem when there is none). */
static int series_row(sqlite3_stmt *st, void *ctx, json_t **row, struct err *err)
{
    const char *office = ctx, *type = (const char *)sqlite3_column_text(st, 0);
    char def[48];
    struct err e2 = ERR_INIT;

    (void)err;
    if (sqlite3_column_type(st, 1) != SQLITE_NULL)
        *row = json_pack("{s:s, s:s, s:I, s:b}", "doc_type", type, "pattern",
                         (const char *)sqlite3_column_text(st, 1), "next_seq",
                         (json_int_t)sqlite3_column_int64(st, 2), "configured", 1);
    else if (default_pattern(type, office, def, &e2) == 0)
        *row = json_pack("{s:s, s:s, s:I, s:b}", "doc_type", type, "pattern", def, "next_seq",
                         (json_int_t)1, "configured", 0);
    else
        *row = json_pack("{s:s, s:n, s:I, s:b, s:s}", "doc_type", type, "pattern", "next_seq",
                         (json_int_t)1, "configured", 0, "problem", err_msg(&e2));
    return 0;
}

int office_number_series_list(struct db *db, const char *office, json_t **out, struct err *err)
{
    *out = NULL;
    /* every document type the office issues (TD3, then TD1), configured or not */
    return db_query_rows(db,
                         "SELECT t.doc_type, s.pattern, s.next_seq FROM (SELECT 'TD3' AS doc_type,"
                         " 1 AS ord UNION ALL SELECT 'TD1', 2) t LEFT JOIN doc_number_series s"
                         " ON s.doc_type = t.doc_type ORDER BY t.ord",
                         "number series", series_row, (void *)office, out, err, "");
}

static int number_taken(struct db *db, const char *number, int *taken, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int s;

    s = db_query_row(db, &st, "SELECT 1 FROM documents WHERE number = ?1", "documents", err, "s",
                     number);
    sqlite3_finalize(st);
    if (s < 0)
        return -1;
    *taken = s == 1;
    return 0;
}

/* The row of the series: created with the office's default pattern the
 * first time a number is allocated. */
static int series_ensure(struct db *db, const struct office_actor *actor, const char *doc_type,
                         char pattern[64], struct err *err)
{
    sqlite3_stmt *st = NULL;
    char now[TIME_ISO8601_LEN + 1], def[48];
    int s, rc = -1;

    s = db_query_row(db, &st, "SELECT pattern FROM doc_number_series WHERE doc_type = ?1",
                     "number series", err, "s", doc_type);
    if (s == 1) {
        if (snprintf(pattern, 64, "%s", (const char *)sqlite3_column_text(st, 0)) >= 64) {
            err_set(err, "number series of %s: the stored pattern is longer than 63 characters",
                    doc_type);
            goto out;
        }
        rc = 0;
        goto out;
    }
    if (s != 0)
        goto out;
    sqlite3_finalize(st);
    st = NULL;
    if (default_pattern(doc_type, actor->office, def, err) != 0)
        goto out;
    (void)snprintf(pattern, 64, "%s", def); /* DEF[48] fits in 64 */
    office_now(db, now);
    if (db_run(db,
               "INSERT INTO doc_number_series (doc_type, pattern, next_seq, updated_at, "
               "updated_by) VALUES (?1, ?2, 1, ?3, ?4)",
               "number series", err, "ssss", doc_type, pattern, now, actor->username) != 0)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

static int allocate_tx(struct db *db, void *arg, struct err *err)
{
    const struct series_ctx *c = arg;
    char pattern[64];
    int year, month, day;

    date_today(&year, &month, &day);
    if (series_ensure(db, c->actor, c->doc_type, pattern, err) != 0)
        return -1;
    /* Skip any number already allocated (a pattern changed back, numbers
     * imported): a number is never given twice. */
    for (int tries = 0;; tries++) {
        long long seq;
        int taken = 0;
        if (db_series_next(db, DB_SERIES_DOCUMENT, c->doc_type, 0, &seq, err) != 0)
            return -1;
        if (office_number_format(pattern, c->actor->office, year, (uint64_t)seq, c->number,
                                 err) != 0)
            return -1;
        if (number_taken(db, c->number, &taken, err) != 0)
            return -1;
        if (!taken)
            return 0;
        if (tries > 100000)
            return err_set(err, "document numbers: no free number near sequence %lld",
                           seq + 1);
    }
}

int office_number_allocate(struct db *db, const struct office_actor *actor,
                           const char *doc_type, char out[32], struct err *err)
{
    struct series_ctx c = { actor, doc_type, NULL, out };

    if (office_doc_type_check(doc_type, err) != 0)
        return -1;
    return db_tx_run(db, allocate_tx, &c, err);
}
