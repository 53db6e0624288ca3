#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "utf8.h"

struct conf_entry {
    char *key;
    char *value;
};

struct conf {
    struct conf_entry e[CONF_MAX_ENTRIES];
    size_t n;
};

void conf_free(struct conf *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].key);
        free(c->e[i].value);
    }
    free(c);
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

static int key_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.';
}

static char *dup_range(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

int conf_parse(const char *text, size_t len, const char *name, struct conf **out, struct err *err)
{
    struct conf *c;
    size_t pos = 0;
    int lineno = 0;

    *out = NULL;
    if (len > CONF_MAX_BYTES)
        return err_set(err, "%s: larger than %d bytes", name, CONF_MAX_BYTES);
    if (!utf8_valid(text, len) || memchr(text, '\0', len) != NULL)
        return err_set(err, "%s: not valid UTF-8 text", name);
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return err_set(err, "%s: out of memory", name);
    while (pos < len) {
        const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos, ks, ke, vs, ve;
        pos += n + (nl != NULL);
        lineno++;
        ks = 0;
        while (ks < n && is_blank(line[ks]))
            ks++;
        if (ks == n || line[ks] == '#')
            continue;
        ke = ks;
        while (ke < n && key_char(line[ke]))
            ke++;
        if (ke == ks) {
            conf_free(c);
            return err_set(err, "%s:%d: expected a key of [a-z0-9_.]", name, lineno);
        }
        vs = ke;
        while (vs < n && is_blank(line[vs]))
            vs++;
        if (vs == n || line[vs] != '=') {
            conf_free(c);
            return err_set(err, "%s:%d: expected '=' after key", name, lineno);
        }
        vs++;
        while (vs < n && is_blank(line[vs]))
            vs++;
        ve = n;
        while (ve > vs && is_blank(line[ve - 1]))
            ve--;
        for (size_t i = 0; i < c->n; i++) {
            if (strlen(c->e[i].key) == ke - ks && memcmp(c->e[i].key, line + ks, ke - ks) == 0) {
                conf_free(c);
                return err_set(err, "%s:%d: key '%.*s' given twice", name, lineno,
                               (int)(ke - ks), line + ks);
            }
        }
        if (c->n == CONF_MAX_ENTRIES) {
            conf_free(c);
            return err_set(err, "%s:%d: more than %d entries", name, lineno, CONF_MAX_ENTRIES);
        }
        c->e[c->n].key = dup_range(line + ks, ke - ks);
        c->e[c->n].value = dup_range(line + vs, ve - vs);
        if (c->e[c->n].key == NULL || c->e[c->n].value == NULL) {
            c->n++;
            conf_free(c);
            return err_set(err, "%s: out of memory", name);
        }
        c->n++;
    }
    *out = c;
    return 0;
}

int conf_load(const char *path, struct conf **out, struct err *err)
{
    struct buf b = BUF_INIT(CONF_MAX_BYTES);
    char chunk[4096];
    FILE *f;
    size_t n;
    int rc;

    *out = NULL;
    f = fopen(path, "rb");
    if (f == NULL)
        return err_set(err, "%s: %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (buf_append(&b, chunk, n) != 0) {
            fclose(f);
            return err_set(err, "%s: larger than %d bytes", path, CONF_MAX_BYTES);
        }
    }
    if (ferror(f)) {
        fclose(f);
        buf_release(&b);
        return err_set(err, "%s: read error", path);
    }
    fclose(f);
    rc = conf_parse(buf_str(&b), b.len, path, out, err);
    buf_release(&b);
    return rc;
}

const char *conf_get(const struct conf *c, const char *key, const char *deflt)
{
    if (c == NULL)
        return deflt;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].key, key) == 0)
            return c->e[i].value;
    return deflt;
}

int conf_get_uint(const struct conf *c, const char *key, unsigned long deflt, unsigned long min,
                  unsigned long max, unsigned long *out, struct err *err)
{
    const char *v = conf_get(c, key, NULL);
    char *end = NULL;
    unsigned long n;

    if (v == NULL) {
        *out = deflt;
        return 0;
    }
    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || n < min || n > max)
        return err_set(err, "civreg.conf: %s must be a number from %lu to %lu", key, min, max);
    *out = n;
    return 0;
}
