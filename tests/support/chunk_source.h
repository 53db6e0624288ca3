/* civreg tests: a request body held in memory and handed out in chunks of at
 * most CHUNK bytes, as a slow client sends it, for web_body_collect (the loop
 * behind web_read_body): the unit test of the body reader and the sign-in body
 * fuzz target. Header-only so the fuzz targets build it without the test
 * support library. */
#ifndef CIVREG_TEST_CHUNK_SOURCE_H
#define CIVREG_TEST_CHUNK_SOURCE_H

#include <stddef.h>
#include <string.h>

struct chunk_source {
    const char *data;
    size_t len, pos, chunk;
    int end; /* what a read returns once all is handed out: 0, or -1 for a dropped peer */
};

/* A read callback for web_body_collect: up to N bytes from CTX, a struct
 * chunk_source. */
static inline int chunk_source_read(void *ctx, void *p, size_t n)
{
    struct chunk_source *s = ctx;
    size_t k = s->len - s->pos;

    if (k == 0)
        return s->end;
    if (k > s->chunk)
        k = s->chunk;
    if (k > n)
        k = n;
    memcpy(p, s->data + s->pos, k);
    s->pos += k;
    return (int)k;
}

#endif
