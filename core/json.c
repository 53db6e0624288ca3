#include "json.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

int json_check_depth(const char *s, size_t len, size_t max_depth, struct err *err)
{
    size_t depth = 0, line = 1, col = 0;
    bool in_string = false, escaped = false;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        col++;
        if (c == '\n') {
            line++;
            col = 0;
        }
        if (in_string) {
            /* RFC 8259 §7: inside a string only '"' and '\\' are special. */
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        switch (c) {
        case '"': in_string = true; break;
        case '[':
        case '{':
            if (++depth > max_depth)
                return err_set(err, "json: nested deeper than %zu levels at line %zu column %zu",
                               max_depth, line, col);
            break;
        case ']':
        case '}':
            /* Unbalanced closers are the parser's to report. */
            if (depth > 0)
                depth--;
            break;
        default: break;
        }
    }
    return 0;
}

/* json_parse without the one-pass reader. */
static int parse_full(const char *s, size_t len, json_t **out, struct err *err)
{
    json_error_t je;

    *out = NULL;
    if (json_check_depth(s, len, JSON_MAX_DEPTH, err) != 0)
        return -1;
    *out = json_loadb(s, len, JSON_REJECT_DUPLICATES, &je);
    if (*out == NULL)
        return err_set(err, "json: %s at line %d column %d", je.text, je.line, je.column);
    return 0;
}

/* Most texts civreg parses are canonical (event bodies, record data, rule
 * states): read in one pass, without the depth scan and jansson's lexer. */
int json_parse(const char *s, size_t len, json_t **out, struct err *err)
{
    if (json_read_canonical(s, len, out) == 0)
        return 0;
    return parse_full(s, len, out, err);
}

int json_parse_canonical(const char *s, size_t len, json_t **out, bool *canonical,
                         struct err *err)
{
    struct buf canon = BUF_INIT(len + 1);

    *canonical = false;
    if (json_read_canonical(s, len, out) == 0) {
        *canonical = true;
        return 0;
    }
    if (parse_full(s, len, out, err) != 0)
        return -1;
    *canonical = json_canonical(*out, &canon, NULL) == 0 && canon.len == len &&
                 memcmp(canon.data, s, len) == 0;
    buf_release(&canon);
    return 0;
}

int json_parse_file(const char *path, size_t max, json_t **out, struct err *err)
{
    struct buf b = BUF_INIT(max);
    unsigned char chunk[65536];
    FILE *f = fopen(path, "rb");
    size_t n;
    int rc = -1;

    *out = NULL;
    if (f == NULL)
        return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&b, chunk, n) != 0) {
            err_set(err, "%s: larger than %zu bytes", path, max);
            goto out;
        }
    if (ferror(f)) {
        err_set(err, "%s: read error", path);
        goto out;
    }
    if (json_parse(buf_str(&b), b.len, out, err) != 0) {
        err_prefix(err, "%s", path);
        goto out;
    }
    rc = 0;
out:
    fclose(f);
    buf_release(&b);
    return rc;
}

/* OBJ's field KEY, or NULL when it is absent or JSON null: then *RC is -1
 * with "KEY: required field missing" in ERR when REQUIRED, else 0. */
static json_t *get_field(const json_t *obj, const char *key, bool required, int *rc,
                         struct err *err)
{
    json_t *v = json_object_get(obj, key);

    *rc = 0;
    if (v != NULL && !json_is_null(v))
        return v;
    if (required)
        *rc = err_set(err, "%s: required field missing", key);
    return NULL;
}

int json_get_string(const json_t *obj, const char *key, bool required, const char **out,
                    struct err *err)
{
    int rc;
    json_t *v = get_field(obj, key, required, &rc, err);

    *out = NULL;
    if (v == NULL)
        return rc;
    if (!json_is_string(v))
        return err_set(err, "%s: must be a string", key);
    *out = json_string_value(v);
    return 0;
}

int json_get_int(const json_t *obj, const char *key, bool required, json_int_t *out,
                 bool *present, struct err *err)
{
    int rc;
    json_t *v = get_field(obj, key, required, &rc, err);

    if (present)
        *present = false;
    if (v == NULL)
        return rc;
    if (!json_is_integer(v))
        return err_set(err, "%s: must be an integer", key);
    *out = json_integer_value(v);
    if (present)
        *present = true;
    return 0;
}

int json_get_bool(const json_t *obj, const char *key, bool required, bool deflt, bool *out,
                  struct err *err)
{
    int rc;
    json_t *v = get_field(obj, key, required, &rc, err);

    if (v == NULL) {
        if (rc == 0)
            *out = deflt;
        return rc;
    }
    if (!json_is_boolean(v))
        return err_set(err, "%s: must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

int json_check_keys(const json_t *obj, const char *const *allowed, struct err *err)
{
    const char *key;
    json_t *v;

    if (!json_is_object(obj))
        return err_set(err, "json: expected an object");
    json_object_foreach((json_t *)obj, key, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i] != NULL; i++) {
            if (strcmp(key, allowed[i]) == 0) {
                ok = true;
                break;
            }
        }
        if (!ok)
            return err_set(err, "%s: unknown field", key);
    }
    return 0;
}

/* RFC 8785 §3.2.3: members sorted by the UTF-16 code units of their names.
 * UTF-8 byte order equals code point order, which differs from UTF-16 order
 * only between U+E000..U+FFFF and supplementary characters (surrogates sort
 * lower), so compare code points mapped to their first UTF-16 unit first. */
static uint32_t utf16_first_unit(uint32_t cp)
{
    return cp >= 0x10000 ? 0xD800 + ((cp - 0x10000) >> 10) : cp;
}

static uint32_t utf16_second_unit(uint32_t cp)
{
    return cp >= 0x10000 ? 0xDC00 + ((cp - 0x10000) & 0x3FF) : 0;
}

static int utf16_compare(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), ia = 0, ib = 0;

    while (ia < la && ib < lb) {
        uint32_t ca = 0, cb = 0;
        int na = utf8_decode(a + ia, la - ia, &ca);
        int nb = utf8_decode(b + ib, lb - ib, &cb);
        if (na < 0 || nb < 0)
            return strcmp(a + ia, b + ib); /* not reached: jansson checks UTF-8 */
        if (ca != cb) {
            uint32_t ua = utf16_first_unit(ca), ub = utf16_first_unit(cb);
            if (ua == ub) {
                ua = utf16_second_unit(ca);
                ub = utf16_second_unit(cb);
            }
            return ua < ub ? -1 : 1;
        }
        ia += (size_t)na;
        ib += (size_t)nb;
    }
    return (ia < la) - (ib < lb);
}

/* An object's member: its name and value, sorted by name. */
struct member {
    const char *key;
    const json_t *value;
};

static int cmp_keys(const void *x, const void *y)
{
    return utf16_compare(((const struct member *)x)->key, ((const struct member *)y)->key);
}

static int canon_string(const char *s, size_t len, struct buf *out)
{
    static const char hex[] = "0123456789abcdef";

    if (buf_append_byte(out, '"') != 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        size_t run = 0;
        /* bytes that stand for themselves go in one append */
        while (i + run < len && (unsigned char)s[i + run] >= 0x20 && s[i + run] != '"' &&
               s[i + run] != '\\')
            run++;
        if (run > 0) {
            if (buf_append(out, s + i, run) != 0)
                return -1;
            i += run - 1;
            continue;
        }
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: break;
        }
        if (esc) {
            if (buf_append_str(out, esc) != 0)
                return -1;
        } else if (c < 0x20) {
            char u[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };
            if (buf_append(out, u, 6) != 0)
                return -1;
        } else if (buf_append_byte(out, c) != 0) {
            return -1;
        }
    }
    return buf_append_byte(out, '"');
}

/* N in decimal (|N| < 2^53, checked by the caller): without printf's
 * format parsing, which was a tenth of a push's canonical checks. */
static int canon_integer(json_int_t n, struct buf *out)
{
    char d[24];
    size_t i = sizeof d;
    unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;

    do {
        d[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (n < 0)
        d[--i] = '-';
    return buf_append(out, d + i, sizeof d - i);
}

static int canon_value(const json_t *v, struct buf *out, int depth, struct err *err)
{
    /* the same bound as json_parse (json_check_depth): what is written
     * canonical, and so signed, can always be read back */
    if (depth >= JSON_MAX_DEPTH && (json_is_object(v) || json_is_array(v)))
        return err_set(err, "json: nesting deeper than %d levels", JSON_MAX_DEPTH);
    switch (json_typeof(v)) {
    case JSON_NULL: return buf_append_str(out, "null") ? err_set(err, "json: output too large") : 0;
    case JSON_TRUE: return buf_append_str(out, "true") ? err_set(err, "json: output too large") : 0;
    case JSON_FALSE: return buf_append_str(out, "false") ? err_set(err, "json: output too large") : 0;
    case JSON_INTEGER: {
        json_int_t n = json_integer_value(v);
        /* RFC 8785 serialises numbers as IEEE 754 doubles: integers beyond
         * 2^53 would not survive a round trip through other implementations. */
        if (n > 9007199254740991LL || n < -9007199254740991LL)
            return err_set(err, "json: integer %lld is outside the exact range of RFC 8785",
                           (long long)n);
        return canon_integer(n, out) ? err_set(err, "json: output too large") : 0;
    }
    case JSON_REAL:
        return err_set(err, "json: floating-point numbers are not allowed in signed data");
    case JSON_STRING:
        return canon_string(json_string_value(v), json_string_length(v), out)
                   ? err_set(err, "json: output too large")
                   : 0;
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        if (buf_append_byte(out, '[') != 0)
            return err_set(err, "json: output too large");
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && buf_append_byte(out, ',') != 0)
                return err_set(err, "json: output too large");
            if (canon_value(json_array_get(v, i), out, depth + 1, err) != 0)
                return -1;
        }
        return buf_append_byte(out, ']') ? err_set(err, "json: output too large") : 0;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        struct member *keys;
        const char *key;
        json_t *member;
        int rc = -1;

        keys = calloc(n ? n : 1, sizeof *keys);
        if (keys == NULL)
            return err_set(err, "json: out of memory");
        json_object_foreach((json_t *)v, key, member) keys[i++] = (struct member){ key, member };
        qsort(keys, n, sizeof *keys, cmp_keys);
        if (buf_append_byte(out, '{') != 0) {
            err_set(err, "json: output too large");
            goto out;
        }
        for (i = 0; i < n; i++) {
            if ((i > 0 && buf_append_byte(out, ',') != 0) ||
                canon_string(keys[i].key, strlen(keys[i].key), out) != 0 ||
                buf_append_byte(out, ':') != 0) {
                err_set(err, "json: output too large");
                goto out;
            }
            if (canon_value(keys[i].value, out, depth + 1, err) != 0)
                goto out;
        }
        if (buf_append_byte(out, '}') != 0) {
            err_set(err, "json: output too large");
            goto out;
        }
        rc = 0;
    out:
        free(keys);
        return rc;
    }
    }
    return err_set(err, "json: unknown value type");
}

int json_canonical(const json_t *v, struct buf *out, struct err *err)
{
    if (v == NULL)
        return err_set(err, "json: no value");
    return canon_value(v, out, 0, err);
}

/* The separator before a member of the object being written to OUT: none
 * right after its '{' (no canonical value ends with '{'). */
static int member_key(struct buf *out, const char *key, struct err *err)
{
    if (out->len == 0 || out->data[out->len - 1] != '{')
        if (buf_append_byte(out, ',') != 0)
            return err_set(err, "json: output too large");
    if (canon_string(key, strlen(key), out) != 0 || buf_append_byte(out, ':') != 0)
        return err_set(err, "json: output too large");
    return 0;
}

int json_canonical_member_string(struct buf *out, const char *key, const char *s,
                                 struct err *err)
{
    size_t len;

    if (s == NULL)
        return err_set(err, "json: member %s has no value", key);
    len = strlen(s);
    /* what json_string would refuse */
    if (!utf8_valid(s, len))
        return err_set(err, "json: member %s is not valid UTF-8", key);
    if (member_key(out, key, err) != 0)
        return -1;
    return canon_string(s, len, out) ? err_set(err, "json: output too large") : 0;
}

int json_canonical_member_integer(struct buf *out, const char *key, json_int_t n,
                                  struct err *err)
{
    if (n > 9007199254740991LL || n < -9007199254740991LL)
        return err_set(err, "json: integer %lld is outside the exact range of RFC 8785",
                       (long long)n);
    if (member_key(out, key, err) != 0)
        return -1;
    return canon_integer(n, out) ? err_set(err, "json: output too large") : 0;
}

int json_canonical_member_value(struct buf *out, const char *key, const json_t *v,
                                struct err *err)
{
    if (v == NULL)
        return err_set(err, "json: member %s has no value", key);
    if (member_key(out, key, err) != 0)
        return -1;
    /* one level down, as inside json_canonical of the whole object */
    return canon_value(v, out, 1, err);
}

static int dump_cb(const char *p, size_t n, void *data)
{
    return buf_append(data, p, n);
}

int json_dump_compact(const json_t *v, struct buf *out, struct err *err)
{
    if (json_dump_callback(v, dump_cb, out, JSON_COMPACT | JSON_ENCODE_ANY) != 0)
        return err_set(err, "json: output too large");
    return 0;
}

int json_dump_ascii(const json_t *v, struct buf *out, struct err *err)
{
    if (json_dump_callback(v, dump_cb, out, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII) != 0)
        return err_set(err, "json: output too large");
    return 0;
}

int json_out(json_t **out, json_t *v, struct err *err)
{
    if (v == NULL)
        return err_oom(err);
    *out = v;
    return 0;
}
