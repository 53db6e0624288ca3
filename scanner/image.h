/* civreg scanner: page images and their decoding.
 *
 * Every scan, whatever its format, becomes one or more 8-bit grayscale pages
 * (0 = black, 255 = white). Decoders check the dimensions a file claims
 * against struct scan_limits before allocating anything, so a small file
 * claiming a huge picture (a decompression bomb) is refused with a message.
 *
 *   struct scan_pages pages = SCAN_PAGES_INIT;
 *   if (scan_decode(data, len, "page-12.png", NULL, &pages, &err) != 0) ...
 *   ... pages.page[i] ...
 *   scan_pages_release(&pages);
 */
#ifndef CIVREG_SCANNER_IMAGE_H
#define CIVREG_SCANNER_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum scan_format {
    SCAN_FMT_UNKNOWN = 0,
    SCAN_FMT_PNG,
    SCAN_FMT_JPEG,
    SCAN_FMT_TIFF,
    SCAN_FMT_PNM,
};

/* One grayscale page. PIX holds WIDTH*HEIGHT bytes, row after row. */
struct scan_image {
    uint32_t width;
    uint32_t height;
    unsigned char *pix; /* owned; free with scan_image_release */
    double dpi_x;       /* from the file's metadata; 0 when it has none */
    double dpi_y;
};

#define SCAN_IMAGE_INIT { 0, 0, NULL, 0, 0 }

/* Caps checked before any allocation. */
struct scan_limits {
    uint32_t max_width;  /* pixels */
    uint32_t max_height; /* pixels */
    uint64_t max_pixels; /* width * height of one page */
    size_t max_pages;    /* pages in one file (multi-page TIFF, PNM streams) */
    uint64_t max_total_pixels; /* summed over the pages of one file */
    /* Pixels a JPEG may claim per byte of its file. Huffman coding spends at
     * least one bit on each 8x8 block's DC value, so a real JPEG stays under
     * 512 (one component); a header claiming more has no data behind it and
     * is refused before its page is allocated. 0 = no ceiling. */
    uint32_t max_jpeg_pixels_per_byte;
    /* CLOCK_MONOTONIC time (scan_clock_ms) after which decoding and barcode
     * reading give up with SCAN_E_DEADLINE; 0 = no deadline. */
    int64_t deadline_ms;
};

/* 20000 px a side covers A3 at 1200 dpi; 150 Mpx is 150 MB of grayscale. */
#define SCAN_LIMITS_DEFAULT { 20000, 20000, 150000000ull, 2000, 600000000ull, 1024, 0 }

/* What a refused decode returns (ERR says why), so callers can answer
 * "too large" or "too slow" without reading the message:
 * SCAN_E_LIMIT    the file claims more pixels or pages than LIMITS allow,
 *                 or more than its own size can hold (a decompression bomb);
 * SCAN_E_DEADLINE the work went past LIMITS->deadline_ms.
 * Any other failure (corrupt, truncated, not an image) is -1. */
#define SCAN_E_LIMIT (-2)
#define SCAN_E_DEADLINE (-3)

/* Milliseconds of CLOCK_MONOTONIC, for deadline_ms. */
int64_t scan_clock_ms(void);

/* SCAN_E_DEADLINE with a message naming WHAT when LIMITS (may be NULL) has a
 * deadline that has passed; 0 otherwise. */
int scan_check_deadline(const struct scan_limits *limits, const char *what, const char *name,
                        struct err *err) __attribute__((warn_unused_result));

/* A decoded file: its format and its pages in order. */
struct scan_pages {
    enum scan_format format;
    struct scan_image *page; /* owned array of COUNT pages */
    size_t count;
};

#define SCAN_PAGES_INIT { SCAN_FMT_UNKNOWN, NULL, 0 }

/* The format a file's first bytes announce, or SCAN_FMT_UNKNOWN. */
enum scan_format scan_format_sniff(const unsigned char *p, size_t len);

/* "png", "jpeg", "tiff", "pnm" or "unknown"; never NULL. */
const char *scan_format_name(enum scan_format f);

/* Decode a whole file held in memory (format by its magic bytes, not its
 * name). NAME is only used in messages ("png: truncated image data in
 * NAME"). LIMITS NULL means SCAN_LIMITS_DEFAULT. On success OUT holds at
 * least one page; on failure OUT is empty, ERR says what is wrong and the
 * result is -1, SCAN_E_LIMIT or SCAN_E_DEADLINE (see above). */
int scan_decode(const unsigned char *p, size_t len, const char *name,
                const struct scan_limits *limits, struct scan_pages *out, struct err *err)
    __attribute__((warn_unused_result));

/* Read the file at PATH (at most 512 MiB) and decode it; messages name PATH. */
int scan_decode_file(const char *path, const struct scan_limits *limits,
                     struct scan_pages *out, struct err *err)
    __attribute__((warn_unused_result));

/* Read a whole file into a malloc'd buffer of at most MAX bytes. */
int scan_read_file(const char *path, size_t max, unsigned char **out, size_t *len,
                   struct err *err) __attribute__((warn_unused_result));

/* Each decoder on its own (same contract as scan_decode, for one format). */
typedef int scan_decode_fn(const unsigned char *p, size_t len, const char *name,
                           const struct scan_limits *limits, struct scan_pages *out,
                           struct err *err);
scan_decode_fn scan_decode_png __attribute__((warn_unused_result));
scan_decode_fn scan_decode_jpeg __attribute__((warn_unused_result));
scan_decode_fn scan_decode_tiff __attribute__((warn_unused_result));
scan_decode_fn scan_decode_pnm __attribute__((warn_unused_result));

void scan_pages_release(struct scan_pages *pages);

/* What decoding a file will cost, from its headers only (no pixel data is
 * decoded): *PIXELS the pixels of all its pages, *LARGEST those of its
 * largest page. Checks the claims against LIMITS (NULL: defaults) as the
 * decoders do; returns 0, -1 (not an image, bad header) or SCAN_E_LIMIT. */
int scan_probe(const unsigned char *p, size_t len, const char *name,
               const struct scan_limits *limits, uint64_t *pixels, uint64_t *largest,
               struct err *err) __attribute__((warn_unused_result));

/* How many pages a file holds, without decoding them (TIFF: its directory
 * count; other formats: 1). For progress displays; 1 when unsure. */
size_t scan_count_pages(const unsigned char *p, size_t len);
size_t scan_tiff_count_pages(const unsigned char *p, size_t len);

/* Allocate a WIDTH x HEIGHT page filled with white, after checking LIMITS
 * (NULL: defaults). FMT names the format in the message. */
int scan_image_alloc(struct scan_image *img, uint32_t width, uint32_t height,
                     const struct scan_limits *limits, const char *fmt, const char *name,
                     struct err *err) __attribute__((warn_unused_result));
void scan_image_release(struct scan_image *img);

/* Image operations used by barcode reading, quality checks and previews.
 * Each writes a new page into OUT (released first), or fails on memory. */

/* Otsu's threshold (0..255) of the histogram of IMG. */
int scan_otsu_threshold(const struct scan_image *img);
/* Black/white copy at THRESHOLD (pixels <= threshold become 0, others 255). */
int scan_image_binarize(const struct scan_image *img, int threshold, struct scan_image *out,
                        struct err *err) __attribute__((warn_unused_result));
/* Box-filtered reduction by an integer FACTOR >= 1 (each side rounded up). */
int scan_image_reduce(const struct scan_image *img, unsigned factor, struct scan_image *out,
                      struct err *err) __attribute__((warn_unused_result));
/* Reduction so that the longer side is at most MAX_SIDE (bilinear). */
int scan_image_fit(const struct scan_image *img, uint32_t max_side, struct scan_image *out,
                   struct err *err) __attribute__((warn_unused_result));
/* The WIDTH x HEIGHT rectangle of IMG whose top-left pixel is X,Y (clipped
 * to IMG; an empty clip fails). */
int scan_image_crop(const struct scan_image *img, uint32_t x, uint32_t y, uint32_t width,
                    uint32_t height, struct scan_image *out, struct err *err)
    __attribute__((warn_unused_result));
/* Doubling in each direction (pixel replication), for very small symbols. */
int scan_image_enlarge2(const struct scan_image *img, struct scan_image *out, struct err *err)
    __attribute__((warn_unused_result));
/* Apply an EXIF/TIFF orientation (1..8) in place. Returns 0 or -1. */
int scan_image_orient(struct scan_image *img, int orientation, struct err *err)
    __attribute__((warn_unused_result));

/* Encode IMG as an 8-bit grayscale PNG into a malloc'd buffer (previews). */
int scan_image_encode_png(const struct scan_image *img, unsigned char **out, size_t *len,
                          struct err *err) __attribute__((warn_unused_result));

#endif
