/* civreg core: JSON read and checked canonical in one pass.
 *
 * The national push and `audit verify` check that every event body is in
 * the canonical form (RFC 8785, json_canonical) of the value it parses to:
 * parsing with jansson, writing the value out again and comparing the bytes
 * cost about 10 us an event, a tenth of a push's CPU. json_read_canonical
 * reads the text once and builds the same jansson value while checking
 * that each byte is the one the canonical form has there. It knows the
 * common case only: no whitespace, members in increasing order, strings
 * without escapes (names in ASCII, values in well-formed UTF-8), integers
 * of at most 15 digits, nesting up to 32 levels. Anything else makes it
 * decline (return -1, nothing built), and the caller falls back to
 * the full parse and comparison: a text it accepts is canonical, and one it
 * declines is judged by the full check, so the answer is the same. */
#include <stdbool.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

#define CANON_DEPTH 32

struct reader {
    const char *p, *end;
};

static json_t *read_value(struct reader *r, int depth);

/* A string of bytes 0x20..0x7e other than '"' and '\\' (what
 * canon_string writes unescaped) and, when UTF8, of well-formed UTF-8
 * sequences (RFC 3629: no overlong form, surrogate or code point above
 * U+10FFFF, as jansson requires; canon_string writes them as they are):
 * *S, *LEN its contents. */
static bool read_plain_string(struct reader *r, const char **s, size_t *len, bool utf8)
{
    const char *q;

    if (r->p >= r->end || *r->p != '"')
        return false;
    q = ++r->p;
    while (q < r->end) {
        unsigned char c = (unsigned char)*q;
        uint32_t cp;
        int n;
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            q++;
            continue;
        }
        if (c < 0x80 || !utf8 || (n = utf8_decode(q, (size_t)(r->end - q), &cp)) < 2)
            break;
        q += n;
    }
    if (q >= r->end || *q != '"')
        return false; /* an escape, a control byte, non-ASCII text in a name, or the end */
    *s = r->p;
    *len = (size_t)(q - r->p);
    r->p = q + 1;
    return true;
}

/* -?(0|[1-9][0-9]{0,14}), not -0: what canon_integer writes for |n| < 10^15. */
static json_t *read_integer(struct reader *r)
{
    bool neg = false;
    json_int_t n = 0;
    int digits = 0;

    if (*r->p == '-') {
        neg = true;
        r->p++;
    }
    if (r->p >= r->end || *r->p < '0' || *r->p > '9')
        return NULL;
    if (*r->p == '0') {
        r->p++;
        if (neg)
            return NULL;
    } else {
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
            if (++digits > 15)
                return NULL;
            n = n * 10 + (*r->p++ - '0');
        }
    }
    /* a fraction or an exponent: a real, which the full check refuses */
    if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
        return NULL;
    return json_integer(neg ? -n : n);
}

static bool read_word(struct reader *r, const char *w, size_t n)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
        return false;
    r->p += n;
    return true;
}

/* Member names in strictly increasing byte order: for ASCII names the
 * UTF-16 order RFC 8785 sorts by, and no name twice. */
static int name_cmp(const char *a, size_t la, const char *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

/* The byte C next: taken. */
static bool eat(struct reader *r, char c)
{
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return true;
    }
    return false;
}

static json_t *read_object(struct reader *r, int depth)
{
    json_t *o = json_object();
    const char *prev = NULL;
    size_t prev_len = 0;

    if (o == NULL)
        return NULL;
    r->p++; /* '{' */
    if (eat(r, '}'))
        return o;
    for (;;) {
        const char *k;
        size_t kl;
        json_t *v;
        if (!read_plain_string(r, &k, &kl, false) ||
            (prev && name_cmp(prev, prev_len, k, kl) >= 0) || r->p >= r->end || *r->p++ != ':' ||
            (v = read_value(r, depth + 1)) == NULL)
            break;
        if (json_object_setn_new_nocheck(o, k, kl, v) != 0)
            break;
        prev = k, prev_len = kl;
        if (eat(r, ','))
            continue;
        if (eat(r, '}'))
            return o;
        break;
    }
    json_decref(o);
    return NULL;
}

static json_t *read_array(struct reader *r, int depth)
{
    json_t *a = json_array();

    if (a == NULL)
        return NULL;
    r->p++; /* '[' */
    if (eat(r, ']'))
        return a;
    for (;;) {
        json_t *v = read_value(r, depth + 1);
        if (v == NULL || json_array_append_new(a, v) != 0)
            break;
        if (eat(r, ','))
            continue;
        if (eat(r, ']'))
            return a;
        break;
    }
    json_decref(a);
    return NULL;
}

static json_t *read_value(struct reader *r, int depth)
{
    const char *s;
    size_t n;

    if (depth > CANON_DEPTH || r->p >= r->end)
        return NULL;
    switch (*r->p) {
    case '{': return read_object(r, depth);
    case '[': return read_array(r, depth);
    case '"': return read_plain_string(r, &s, &n, true) ? json_stringn_nocheck(s, n) : NULL;
    case 't': return read_word(r, "true", 4) ? json_true() : NULL;
    case 'f': return read_word(r, "false", 5) ? json_false() : NULL;
    case 'n': return read_word(r, "null", 4) ? json_null() : NULL;
    default: return read_integer(r);
    }
}

int json_read_canonical(const char *text, size_t len, json_t **out)
{
    struct reader r = { text, text + len };
    json_t *v;

    *out = NULL;
    if (len == 0 || *text != '{')
        return -1;
    if ((v = read_value(&r, 0)) == NULL)
        return -1;
    if (r.p != r.end) {
        json_decref(v);
        return -1;
    }
    *out = v;
    return 0;
}
