/* civreg tests: decompression bombs (see bombgen.h). */
#include "bombgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jpeglib.h>
#include <zlib.h>

const unsigned char bomb_png_text[90] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
    0x52, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x1e, 0x01, 0x00, 0x00, 0x00, 0x00, 0x76,
    0xa6, 0x61, 0x70, 0x00, 0x00, 0x00, 0x04, 0x67, 0x41, 0x4d, 0x41, 0x00, 0x00, 0xb1, 0x8f,
    0x0b, 0xfc, 0x61, 0xa4, 0x00, 0x00, 0x00, 0x07, 0x74, 0x49, 0x4d, 0x45, 0x07, 0xea, 0x0b,
    0x1a, 0x0f, 0x33, 0x07, 0x52, 0x2c, 0xa3, 0x00, 0x76, 0xa6, 0x61, 0x25, 0x74, 0x45, 0x58,
    0x74, 0x64, 0x64, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

struct out {
    unsigned char *p;
    size_t len, cap;
};

static int put(struct out *o, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (o->len + n > o->cap) {
        size_t cap = (o->cap ? o->cap * 2 : 4096) + n;
        unsigned char *q = realloc(o->p, cap);
        if (q == NULL)
            return -1;
        o->p = q;
        o->cap = cap;
    }
    memcpy(o->p + o->len, p, n);
    o->len += n;
    return 0;
}

static int put32be(struct out *o, uint32_t v)
{
    unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 8), (unsigned char)v };
    return put(o, b, 4);
}

/* zlib stream of ROWS rows of ROWLEN zero bytes, each preceded by PREFIX
 * zero bytes (PNG's filter byte). */
static int deflate_zeros(size_t rowlen, uint32_t rows, size_t prefix, struct out *z)
{
    unsigned char *row = calloc(rowlen + prefix, 1);
    unsigned char buf[65536];
    z_stream s;
    int rc = -1;

    memset(&s, 0, sizeof s);
    if (row == NULL || deflateInit(&s, 9) != Z_OK) {
        free(row);
        return -1;
    }
    for (uint32_t y = 0; y <= rows; y++) {
        int flush = y == rows ? Z_FINISH : Z_NO_FLUSH;
        s.next_in = row;
        s.avail_in = y == rows ? 0 : (uInt)(rowlen + prefix);
        do {
            int zr;
            s.next_out = buf;
            s.avail_out = sizeof buf;
            zr = deflate(&s, flush);
            if (zr == Z_STREAM_ERROR || put(z, buf, sizeof buf - s.avail_out) != 0)
                goto out;
        } while (s.avail_out == 0);
    }
    rc = 0;
out:
    deflateEnd(&s);
    free(row);
    return rc;
}

static int png_chunk(struct out *o, const char *type, const unsigned char *d, uint32_t n)
{
    uLong crc = crc32(0, (const Bytef *)type, 4);
    if (n > 0)
        crc = crc32(crc, d, n);
    return put32be(o, n) || put(o, type, 4) || put(o, d, n) || put32be(o, (uint32_t)crc);
}

/* The end of a generator: on success (RC 0) the file built in O goes to the
 * caller as *OUT, *LEN; O's rest and the scratch Z are freed. Returns RC. */
static int hand_over(int rc, struct out *o, struct out *z, unsigned char **out, size_t *len)
{
    if (rc == 0) {
        *out = o->p;
        *len = o->len;
        o->p = NULL;
    }
    free(o->p);
    free(z->p);
    return rc;
}

int bomb_png(uint32_t w, uint32_t h, unsigned char **out, size_t *len)
{
    struct out o = { 0 }, z = { 0 };
    unsigned char ihdr[13] = { 0 };
    int rc = -1;

    for (int i = 0; i < 4; i++) {
        ihdr[i] = (unsigned char)(w >> (24 - 8 * i));
        ihdr[4 + i] = (unsigned char)(h >> (24 - 8 * i));
    }
    ihdr[8] = 8; /* depth; colour type 0 (gray), no interlace */
    if (deflate_zeros(w, h, 1, &z) != 0 || put(&o, "\x89PNG\r\n\x1a\n", 8) != 0 ||
        png_chunk(&o, "IHDR", ihdr, 13) != 0)
        goto out;
    for (size_t off = 0; off < z.len; off += 1u << 20) {
        size_t n = z.len - off < (1u << 20) ? z.len - off : 1u << 20;
        if (png_chunk(&o, "IDAT", z.p + off, (uint32_t)n) != 0)
            goto out;
    }
    if (png_chunk(&o, "IEND", NULL, 0) != 0)
        goto out;
    rc = 0;
out:
    return hand_over(rc, &o, &z, out, len);
}

static int put16le(struct out *o, uint16_t v)
{
    unsigned char b[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
    return put(o, b, 2);
}

static int put32le(struct out *o, uint32_t v)
{
    unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 24) };
    return put(o, b, 4);
}

static int tag(struct out *o, uint16_t t, uint16_t type, uint32_t value)
{
    return put16le(o, t) || put16le(o, type) || put32le(o, 1) ||
           (type == 3 ? put16le(o, (uint16_t)value) || put16le(o, 0) : put32le(o, value));
}

int bomb_tiff(uint32_t w, uint32_t h, unsigned pages, unsigned char **out, size_t *len)
{
    struct out o = { 0 }, z = { 0 };
    uint32_t strip = 8;
    int rc = -1;

    /* TIFF 6.0 §2: header, the one strip all pages share, then one IFD a
     * page (tags in ascending order), each pointing at the next. */
    if (deflate_zeros(w, h, 0, &z) != 0 || put(&o, "II*\0", 4) != 0 ||
        put32le(&o, 8 + (uint32_t)z.len) != 0 || put(&o, z.p, z.len) != 0)
        goto out;
    for (unsigned i = 0; i < pages; i++) {
        uint32_t next = i + 1 < pages ? (uint32_t)o.len + 2 + 9 * 12 + 4 : 0;
        if (put16le(&o, 9) || tag(&o, 256, 4, w) || tag(&o, 257, 4, h) || tag(&o, 258, 3, 8) ||
            tag(&o, 259, 3, 8) || tag(&o, 262, 3, 1) || tag(&o, 273, 4, strip) ||
            tag(&o, 277, 3, 1) || tag(&o, 278, 4, h) || tag(&o, 279, 4, (uint32_t)z.len) ||
            put32le(&o, next))
            goto out;
    }
    rc = 0;
out:
    return hand_over(rc, &o, &z, out, len);
}

/* A gray W x H JPEG of zeros in libjpeg's malloc'd MEM (N bytes). */
static int jpeg_zeros(uint32_t w, uint32_t h, int progressive, unsigned char **mem,
                      unsigned long *n)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *row = calloc(w, 1);
    JSAMPROW rows[1] = { row };

    if (row == NULL)
        return -1;
    *mem = NULL;
    *n = 0;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, mem, n);
    c.image_width = w;
    c.image_height = h;
    c.input_components = 1;
    c.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    if (progressive)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < h)
        jpeg_write_scanlines(&c, rows, 1);
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    return 0;
}

static int copy_out(unsigned char *mem, unsigned long n, unsigned char **out, size_t *len)
{
    *out = malloc(n);
    if (*out == NULL) {
        free(mem);
        return -1;
    }
    memcpy(*out, mem, n);
    *len = n;
    free(mem);
    return 0;
}

int bomb_jpeg_progressive(uint32_t w, uint32_t h, unsigned char **out, size_t *len)
{
    unsigned char *mem;
    unsigned long n;

    if (jpeg_zeros(w, h, 1, &mem, &n) != 0)
        return -1;
    return copy_out(mem, n, out, len);
}

int bomb_jpeg(uint32_t w, uint32_t h, unsigned char **out, size_t *len)
{
    unsigned char *mem;
    unsigned long n;

    if (jpeg_zeros(16, 16, 0, &mem, &n) != 0)
        return -1;
    for (unsigned long i = 0; i + 9 < n; i++) {
        if (mem[i] == 0xff && mem[i + 1] == 0xc0) { /* SOF0: length, precision, Y, X */
            mem[i + 5] = (unsigned char)(h >> 8);
            mem[i + 6] = (unsigned char)h;
            mem[i + 7] = (unsigned char)(w >> 8);
            mem[i + 8] = (unsigned char)w;
            break;
        }
    }
    return copy_out(mem, n, out, len);
}

int bomb_pgm_plain(uint32_t w, uint32_t h, unsigned char **out, size_t *len)
{
    char head[64];
    int n = snprintf(head, sizeof head, "P2\n%u %u\n255\n0 0 0 0\n", w, h);

    if (n < 0 || (size_t)n >= sizeof head || (*out = malloc((size_t)n)) == NULL)
        return -1;
    memcpy(*out, head, (size_t)n);
    *len = (size_t)n;
    return 0;
}

#if defined(__SANITIZE_ADDRESS__)
#define BOMB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BOMB_ASAN 1
#endif
#endif

#ifdef BOMB_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=8";
}
#endif

void bomb_small_quarantine(void)
{
#ifdef BOMB_ASAN
    const char *old = getenv("ASAN_OPTIONS");
    char opts[1024];
    snprintf(opts, sizeof opts, "%s%squarantine_size_mb=8", old ? old : "", old && *old ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
#endif
}

long long bomb_peak_rss(int (*fn)(void *), void *arg, int *status)
{
    struct rusage ru;
    int st = 0;
    pid_t pid;

    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(fn(arg));
    if (wait4(pid, &st, 0, &ru) != pid)
        return -1;
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return (long long)ru.ru_maxrss * 1024;
}
