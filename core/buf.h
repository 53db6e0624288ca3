/* civreg core: a growable byte buffer with a hard cap (after curl's dynbuf).
 *
 *   struct buf b = BUF_INIT(1 << 20);
 *   if (buf_append(&b, p, n) != 0) ...   // over the cap: fails, buffer freed
 *   use b.data / b.len, or buf_str(&b) for a NUL-terminated view
 *   buf_release(&b);
 *
 * The buffer always keeps a NUL byte after its contents, so text can be read
 * with buf_str(). Every input-driven allocation goes through a cap.
 */
#ifndef CIVREG_CORE_BUF_H
#define CIVREG_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    unsigned char *data; /* NULL until the first append */
    size_t len;          /* bytes in use */
    size_t cap;          /* bytes allocated */
    size_t max;          /* hard cap on len */
};

#define BUF_INIT(maxbytes) { NULL, 0, 0, (maxbytes) }

/* Append LEN bytes. Returns 0, or -1 when the result would exceed the cap or
 * memory runs out; on failure the buffer is released (like curl's dynbuf), so
 * a partial result is never mistaken for a whole one. */
int buf_append(struct buf *b, const void *p, size_t len) __attribute__((warn_unused_result));
int buf_append_str(struct buf *b, const char *s) __attribute__((warn_unused_result));
int buf_append_byte(struct buf *b, unsigned char c) __attribute__((warn_unused_result));
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3), warn_unused_result));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0), warn_unused_result));

/* NUL-terminated view of the contents; "" when empty. Valid until the next
 * change to the buffer. */
const char *buf_str(const struct buf *b);

/* Empty the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* Free the memory; the buffer is empty and reusable (the cap is kept). */
void buf_release(struct buf *b);

/* Wipe the contents (for secrets) and free. */
void buf_release_secret(struct buf *b);

/* buf_append for buffers that may hold secrets (request bodies with
 * passwords): growing copies into a new allocation and wipes the old one
 * (realloc would free it unwiped), and a failure wipes before releasing.
 * Release such a buffer with buf_release_secret. */
int buf_append_secret(struct buf *b, const void *p, size_t len)
    __attribute__((warn_unused_result));

/* Hand the contents to the caller, who frees them with free(). *LEN gets the
 * length (may be NULL). Returns a NUL-terminated allocation even when empty,
 * or NULL when out of memory. The buffer is left empty. */
unsigned char *buf_detach(struct buf *b, size_t *len);

#endif
