#include "buf.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room in B for EXTRA more bytes and the NUL, within its cap. A SECRET
 * buffer is never realloc'd (that could leave a copy of the secret in the
 * freed block): it moves to a new block and the old one is wiped. On
 * failure B is released (wiped when SECRET) and -1 returned. */
static int buf_grow(struct buf *b, size_t extra, bool secret)
{
    size_t need, ncap, used;
    unsigned char *p;

    if (extra > SIZE_MAX - b->len - 1 || b->len + extra > b->max)
        goto fail;
    need = b->len + extra + 1; /* + NUL */
    if (need <= b->cap)
        return 0;
    ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > b->max + 1)
        ncap = b->max + 1;
    if (!secret) {
        if ((p = realloc(b->data, ncap)) == NULL)
            goto fail;
    } else {
        if ((p = malloc(ncap)) == NULL)
            goto fail;
        used = b->len;
        if (b->data != NULL)
            memcpy(p, b->data, used);
        buf_release_secret(b); /* keeps max */
        b->len = used;
    }
    b->data = p;
    b->cap = ncap;
    return 0;
fail:
    if (secret)
        buf_release_secret(b);
    else
        buf_release(b);
    return -1;
}

static int append(struct buf *b, const void *p, size_t len, bool secret)
{
    if (buf_grow(b, len, secret) != 0)
        return -1;
    if (len > 0)
        memcpy(b->data + b->len, p, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int buf_append(struct buf *b, const void *p, size_t len)
{
    return append(b, p, len, false);
}

int buf_append_secret(struct buf *b, const void *p, size_t len)
{
    return append(b, p, len, true);
}

int buf_append_str(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_append_byte(struct buf *b, unsigned char c)
{
    return buf_append(b, &c, 1);
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        buf_release(b);
        return -1;
    }
    if (buf_grow(b, (size_t)n, false) != 0)
        return -1;
    if (vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap) != n) {
        buf_release(b);
        return -1;
    }
    b->len += (size_t)n;
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

const char *buf_str(const struct buf *b)
{
    return b->data ? (const char *)b->data : "";
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_release(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_release_secret(struct buf *b)
{
    if (b->data)
        sodium_memzero(b->data, b->cap);
    buf_release(b);
}

unsigned char *buf_detach(struct buf *b, size_t *len)
{
    unsigned char *p = b->data;

    if (p == NULL) {
        p = calloc(1, 1);
        if (p == NULL)
            return NULL;
    }
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
