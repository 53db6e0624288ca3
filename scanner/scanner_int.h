/* civreg scanner: helpers shared by the decoders (not API). */
#ifndef CIVREG_SCANNER_INT_H
#define CIVREG_SCANNER_INT_H

#include "image.h"

/* Add a new zero-sized page slot to PAGES (after checking max_pages) and
 * return it through *SLOT; the caller fills it with scan_image_alloc. */
int scan_pages_push(struct scan_pages *pages, const struct scan_limits *limits,
                    const char *fmt, const char *name, struct scan_image **slot,
                    struct err *err) __attribute__((warn_unused_result));

/* Check a page's claimed size against LIMITS and the running total of
 * pixels already decoded from the same file (*TOTAL, updated on success). */
int scan_check_dims(uint64_t width, uint64_t height, const struct scan_limits *limits,
                    uint64_t *total, const char *fmt, const char *name, struct err *err)
    __attribute__((warn_unused_result));

/* The decoders' row loops look at the clock once every 256 rows (a clock
 * read costs more than a row of a small page): scan_check_deadline for
 * rows 0, 256, 512, ..., 0 for the rows between. */
static inline int scan_row_deadline(uint64_t row, const struct scan_limits *limits,
                                    const char *fmt, const char *name, struct err *err)
{
    return (row & 255) == 0 ? scan_check_deadline(limits, fmt, name, err) : 0;
}

/* scan_probe for one format: *PIXELS and *LARGEST from the headers. */
typedef int scan_probe_fn(const unsigned char *p, size_t len, const char *name,
                          const struct scan_limits *limits, uint64_t *pixels, uint64_t *largest,
                          struct err *err);
scan_probe_fn scan_png_probe __attribute__((warn_unused_result));
scan_probe_fn scan_jpeg_probe __attribute__((warn_unused_result));
scan_probe_fn scan_tiff_probe __attribute__((warn_unused_result));
scan_probe_fn scan_pnm_probe __attribute__((warn_unused_result));

/* ITU-R BT.601 luma of an sRGB triple, in integers (what zbarimg's
 * ImageMagick loader uses for intensity, to within rounding). */
static inline unsigned char scan_luma(unsigned r, unsigned g, unsigned b)
{
    return (unsigned char)((r * 19595u + g * 38470u + b * 7471u + 32768u) >> 16);
}

/* Composite gray value G with alpha A (0..255) over white paper. */
static inline unsigned char scan_over_white(unsigned g, unsigned a)
{
    return (unsigned char)((g * a + 255u * (255u - a) + 127u) / 255u);
}

#define SCAN_NAME(n) ((n) ? (n) : "input")

#endif
