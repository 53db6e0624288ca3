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
    bool build;              /* make the jansson value, or only check and pick */
    struct json_pick *picks; /* spans wanted, NPICKS of them */
    size_t npicks;
    size_t pick_depth;                 /* the most names in a pick's path */
    const char *key[CANON_DEPTH + 1];  /* the member names leading to the value read
                                        * (NULL: an array's element) */
    size_t key_len[CANON_DEPTH + 1];
};

static bool read_value(struct reader *r, int depth, json_t **out);

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
static bool read_integer(struct reader *r, json_t **out)
{
    bool neg = false;
    json_int_t n = 0;
    int digits = 0;

    if (*r->p == '-') {
        neg = true;
        r->p++;
    }
    if (r->p >= r->end || *r->p < '0' || *r->p > '9')
        return false;
    if (*r->p == '0') {
        r->p++;
        if (neg)
            return false;
    } else {
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
            if (++digits > 15)
                return false;
            n = n * 10 + (*r->p++ - '0');
        }
    }
    /* a fraction or an exponent: a real, which the full check refuses */
    if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
        return false;
    return !r->build || (*out = json_integer(neg ? -n : n)) != NULL;
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

/* The names key[0..n) joined by '/' are PATH (a name holding a '/', or an
 * array on the way, never matches). */
static bool path_is(const char *path, const struct reader *r, size_t n)
{
    for (size_t l = 0; l < n; l++) {
        if (r->key[l] == NULL || strncmp(path, r->key[l], r->key_len[l]) != 0 ||
            memchr(r->key[l], '/', r->key_len[l]) != NULL)
            return false;
        path += r->key_len[l];
        if (*path != (l + 1 < n ? '/' : '\0'))
            return false;
        path++;
    }
    return true;
}

/* The member value [AT, r->p) just read, at key[0..n): kept by the picks
 * of that path. */
static void pick(struct reader *r, size_t n, const char *at)
{
    for (size_t i = 0; i < r->npicks; i++)
        if (path_is(r->picks[i].path, r, n)) {
            r->picks[i].at = at;
            r->picks[i].len = (size_t)(r->p - at);
        }
}

static bool read_object(struct reader *r, int depth, json_t **out)
{
    json_t *o = NULL;
    const char *prev = NULL;
    size_t prev_len = 0;

    if (r->build && (o = json_object()) == NULL)
        return false;
    r->p++; /* '{' */
    if (eat(r, '}'))
        goto done;
    for (;;) {
        const char *k, *at;
        size_t kl;
        json_t *v = NULL;
        if (!read_plain_string(r, &k, &kl, false) ||
            (prev && name_cmp(prev, prev_len, k, kl) >= 0) || r->p >= r->end || *r->p++ != ':')
            break;
        r->key[depth] = k, r->key_len[depth] = kl;
        at = r->p;
        if (!read_value(r, depth + 1, &v))
            break;
        if ((size_t)depth < r->pick_depth)
            pick(r, (size_t)depth + 1, at);
        if (r->build && json_object_setn_new_nocheck(o, k, kl, v) != 0)
            break;
        prev = k, prev_len = kl;
        if (eat(r, ','))
            continue;
        if (eat(r, '}'))
            goto done;
        break;
    }
    json_decref(o);
    return false;
done:
    *out = o;
    return true;
}

static bool read_array(struct reader *r, int depth, json_t **out)
{
    json_t *a = NULL;

    if (r->build && (a = json_array()) == NULL)
        return false;
    r->key[depth] = NULL; /* its elements are at no member's path */
    r->p++; /* '[' */
    if (eat(r, ']'))
        goto done;
    for (;;) {
        json_t *v = NULL;
        if (!read_value(r, depth + 1, &v) || (r->build && json_array_append_new(a, v) != 0))
            break;
        if (eat(r, ','))
            continue;
        if (eat(r, ']'))
            goto done;
        break;
    }
    json_decref(a);
    return false;
done:
    *out = a;
    return true;
}

/* true, false or null. */
static bool read_literal(struct reader *r, json_t **out)
{
    static const char *const words[] = { "true", "false", "null" };
    int k = *r->p == 't' ? 0 : *r->p == 'f' ? 1 : 2;

    if (!read_word(r, words[k], strlen(words[k])))
        return false;
    if (r->build && (*out = k == 0 ? json_true() : k == 1 ? json_false() : json_null()) == NULL)
        return false;
    return true;
}

/* One value at DEPTH: true when it is of the common canonical case, *OUT
 * then the value made (when building; else left NULL). */
static bool read_value(struct reader *r, int depth, json_t **out)
{
    const char *s;
    size_t n;

    if (depth > CANON_DEPTH || r->p >= r->end)
        return false;
    switch (*r->p) {
    case '{': return read_object(r, depth, out);
    case '[': return read_array(r, depth, out);
    case 't':
    case 'f':
    case 'n': return read_literal(r, out);
    case '"':
        if (!read_plain_string(r, &s, &n, true))
            return false;
        return !r->build || (*out = json_stringn_nocheck(s, n)) != NULL;
    default: return read_integer(r, out);
    }
}

static void picks_clear(struct json_pick *picks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        picks[i].at = NULL, picks[i].len = 0;
}

int json_read_canonical_pick(const char *text, size_t len, json_t **out,
                             struct json_pick *picks, size_t npicks)
{
    struct reader r = { .p = text, .end = text + len, .build = out != NULL,
                        .picks = picks, .npicks = npicks };
    json_t *v = NULL;

    if (out != NULL)
        *out = NULL;
    picks_clear(picks, npicks);
    for (size_t i = 0; i < npicks; i++) {
        size_t names = 1;
        for (const char *c = picks[i].path; *c; c++)
            names += *c == '/';
        if (names > r.pick_depth)
            r.pick_depth = names;
    }
    if (len == 0 || *text != '{' || !read_value(&r, 0, &v) || r.p != r.end) {
        json_decref(v);
        picks_clear(picks, npicks);
        return -1;
    }
    if (out != NULL)
        *out = v;
    return 0;
}

int json_read_canonical(const char *text, size_t len, json_t **out)
{
    return json_read_canonical_pick(text, len, out, NULL, 0);
}

bool json_pick_string(const struct json_pick *p, const char **s, size_t *len)
{
    if (p->at == NULL || p->len < 2 || p->at[0] != '"')
        return false;
    *s = p->at + 1;
    *len = p->len - 2;
    return true;
}
