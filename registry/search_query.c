/* civreg registry: the search query language.
 *
 *   Müller Hans 1985-03            names and a partial date
 *   family:Иванов born:1980..1985  a field and a range of years
 *   mother:"Anna Maria" place:Linz sex:f
 *   HQ/2026/000012   4827163950    a registration number, a UIN
 *
 * The parser only classifies and folds; search.c turns the result into an
 * FTS5 expression built from A-Z/0-9 words alone, so nothing the user types
 * reaches FTS5's own query syntax. */
#include <stdlib.h>
#include <string.h>

#include "core/timeutil.h"
#include "core/utf8.h"
#include "search.h"

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* YYYY, YYYY-MM, YYYY-MM-DD, DD.MM.YYYY, MM.YYYY (also '/' in the dotted
 * forms). Returns 0 and fills D, or -1 when S is not a valid date. */
static int pdate_parse(const char *s, size_t n, struct registry_pdate *d)
{
    const char *p[3];
    size_t l[3];
    size_t k = 0, start = 0;
    char sep = 0;

    memset(d, 0, sizeof *d);
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '-' || s[i] == '.' || s[i] == '/') {
            if (i < n) {
                if (sep && s[i] != sep)
                    return -1;
                sep = s[i];
            }
            if (k == 3)
                return -1;
            p[k] = s + start;
            l[k] = i - start;
            if (!all_digits(p[k], l[k]))
                return -1;
            k++;
            start = i + 1;
        }
    }
    if (sep == '-' || k == 1) {
        if (l[0] != 4 || (k > 1 && l[1] != 2) || (k > 2 && l[2] != 2))
            return -1;
        d->y = num(p[0], 4);
        d->m = k > 1 ? num(p[1], 2) : 0;
        d->d = k > 2 ? num(p[2], 2) : 0;
    } else if (k == 3) {
        if (l[0] < 1 || l[0] > 2 || l[1] < 1 || l[1] > 2 || l[2] != 4)
            return -1;
        d->d = num(p[0], l[0]);
        d->m = num(p[1], l[1]);
        d->y = num(p[2], 4);
    } else {
        if (l[0] < 1 || l[0] > 2 || l[1] != 4)
            return -1;
        d->m = num(p[0], l[0]);
        d->y = num(p[1], 4);
    }
    if (d->y < 1 || (d->m != 0 && (d->m < 1 || d->m > 12)))
        return -1;
    if (d->d != 0 && !date_valid(d->y, d->m, d->d))
        return -1;
    return 0;
}

static int date_term(struct registry_search_query *q, const char *s, size_t n)
{
    const char *dots = NULL;
    struct registry_pdate a, b;

    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '.' && s[i + 1] == '.') {
            dots = s + i;
            break;
        }
    if (dots) {
        size_t la = (size_t)(dots - s);
        if (pdate_parse(s, la, &a) != 0 || pdate_parse(dots + 2, n - la - 2, &b) != 0)
            return -1;
    } else {
        if (pdate_parse(s, n, &a) != 0)
            return -1;
        b = a;
    }
    q->has_date = true;
    q->from = a;
    q->to = b;
    return 0;
}

static bool looks_regno(const char *s, size_t n)
{
    size_t slashes = 0;
    if (n < 5 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '/')
            slashes++;
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return false;
    }
    return slashes == 2;
}

/* Fold V and append it to *SLOT (space-separated). */
static int add_words(char **slot, const char *v, size_t n, struct err *err)
{
    struct buf b = BUF_INIT(REGISTRY_QUERY_MAX * 4);
    int rc = -1;

    if (*slot && (buf_append_str(&b, *slot) != 0))
        goto oom;
    if (registry_name_fold(v, n, &b, err) != 0)
        goto out;
    if (b.len == 0) {
        rc = 0;
        goto out;
    }
    free(*slot);
    *slot = strdup(buf_str(&b));
    if (*slot == NULL)
        goto oom;
    rc = 0;
    goto out;
oom:
    err_setk(err, ERR_INTERNAL, "search: out of memory");
out:
    buf_release(&b);
    return rc;
}

static int set_copy(char **slot, const char *v, size_t n, const char *what, struct err *err)
{
    if (*slot)
        return err_set(err, "search: more than one %s", what);
    /* V need not be NUL-terminated (it points into the query): copy exactly
     * N bytes rather than let strndup look for a terminator past them. */
    *slot = malloc(n + 1);
    if (*slot == NULL)
        return err_setk(err, ERR_INTERNAL, "search: out of memory");
    memcpy(*slot, v, n);
    (*slot)[n] = '\0';
    return 0;
}

static int term(struct registry_search_query *q, const char *key, size_t kn, const char *v,
                size_t vn, const char *word, size_t wn, struct err *err)
{
#define KEY(s) (kn == strlen(s) && memcmp(key, s, kn) == 0)
    if (vn == 0)
        return err_set(err, "search: '%.*s' has no value", (int)wn, word);
    if (key == NULL) {
        if (date_term(q, v, vn) == 0)
            return 0;
        if (vn == 10 && all_digits(v, vn))
            return set_copy(&q->uin, v, vn, "UIN", err);
        if (looks_regno(v, vn))
            return set_copy(&q->regno, v, vn, "registration number", err);
        return add_words(&q->names, v, vn, err);
    }
    if (KEY("given"))
        return add_words(&q->given, v, vn, err);
    if (KEY("family") || KEY("surname"))
        return add_words(&q->family, v, vn, err);
    if (KEY("name"))
        return add_words(&q->names, v, vn, err);
    if (KEY("mother") || KEY("father") || KEY("parent"))
        return add_words(&q->parents, v, vn, err);
    if (KEY("place"))
        return add_words(&q->place, v, vn, err);
    if (KEY("born") || KEY("dob") || KEY("date")) {
        if (date_term(q, v, vn) != 0)
            return err_set(err, "search: '%.*s' is not a date (YYYY, YYYY-MM, YYYY-MM-DD, "
                           "DD.MM.YYYY or a range A..B)", (int)wn, word);
        return 0;
    }
    if (KEY("uin")) {
        if (vn != 10 || !all_digits(v, vn))
            return err_set(err, "search: '%.*s' is not a UIN (10 digits)", (int)wn, word);
        return set_copy(&q->uin, v, vn, "UIN", err);
    }
    if (KEY("reg")) {
        if (!looks_regno(v, vn))
            return err_set(err, "search: '%.*s' is not a registration number (OFFICE/YEAR/N)",
                           (int)wn, word);
        return set_copy(&q->regno, v, vn, "registration number", err);
    }
    if (KEY("sex")) {
        char c = (char)(v[0] | 0x20);
        if (vn == 1 && (c == 'f' || c == 'm' || c == 'x'))
            q->sex = c;
        else if (vn == 6 && memcmp(v, "female", 6) == 0)
            q->sex = 'f';
        else if (vn == 4 && memcmp(v, "male", 4) == 0)
            q->sex = 'm';
        else
            return err_set(err, "search: '%.*s': sex is f, m or x", (int)wn, word);
        return 0;
    }
    if (KEY("status")) {
        if (!((vn == 5 && memcmp(v, "draft", 5) == 0) ||
              (vn == 8 && memcmp(v, "verified", 8) == 0) ||
              (vn == 10 && memcmp(v, "registered", 10) == 0)))
            return err_set(err, "search: '%.*s': status is draft, verified or registered",
                           (int)wn, word);
        memcpy(q->status, v, vn);
        q->status[vn] = '\0';
        return 0;
    }
    return err_set(err, "search: unknown field '%.*s:' (given, family, name, mother, father, "
                   "parent, place, born, sex, uin, reg, status)", (int)kn, key);
#undef KEY
}

int registry_search_query_parse(const char *s, size_t len, struct registry_search_query *q,
                                struct err *err)
{
    size_t i = 0, terms = 0;

    memset(q, 0, sizeof *q);
    if (len > REGISTRY_QUERY_MAX)
        return err_set(err, "search: query longer than %d bytes", REGISTRY_QUERY_MAX);
    if (memchr(s, '\0', len))
        return err_set(err, "search: query contains a NUL byte");
    if (!utf8_valid(s, len))
        return err_set(err, "search: query is not valid UTF-8");
    while (i < len) {
        const char *word, *key = NULL, *v;
        size_t wn, kn = 0, vn;
        bool quoted = false;

        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
            i++;
        if (i == len)
            break;
        word = s + i;
        /* key: a run of a-z before ':' */
        {
            size_t j = i;
            while (j < len && s[j] >= 'a' && s[j] <= 'z')
                j++;
            if (j > i && j < len && s[j] == ':') {
                key = s + i;
                kn = j - i;
                i = j + 1;
            }
        }
        if (i < len && s[i] == '"') {
            const char *end = memchr(s + i + 1, '"', len - i - 1);
            if (end == NULL) {
                err_set(err, "search: unclosed quote in '%.*s'", (int)(len - (size_t)(word - s)),
                        word);
                goto fail;
            }
            v = s + i + 1;
            vn = (size_t)(end - v);
            i = (size_t)(end - s) + 1;
            quoted = true;
        } else {
            v = s + i;
            while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
                i++;
            vn = (size_t)(s + i - v);
        }
        (void)quoted;
        wn = (size_t)(s + i - word);
        if (++terms > REGISTRY_QUERY_TERMS) {
            err_set(err, "search: more than %d words", REGISTRY_QUERY_TERMS);
            goto fail;
        }
        if (term(q, key, kn, v, vn, word, wn, err) != 0) {
            goto fail;
        }
    }
    if (!q->names && !q->given && !q->family && !q->parents && !q->place && !q->uin &&
        !q->regno && !q->has_date) {
        err_set(err, "search: nothing to search for");
        goto fail;
    }
    return 0;
fail:
    registry_search_query_release(q);
    return -1;
}

void registry_search_query_release(struct registry_search_query *q)
{
    free(q->names);
    free(q->given);
    free(q->family);
    free(q->parents);
    free(q->place);
    free(q->uin);
    free(q->regno);
    memset(q, 0, sizeof *q);
}
