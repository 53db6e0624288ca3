/* civreg scanner: page quality checks.
 *
 * Measured on every page so a clerk sees which pages to rescan. A page that
 * fails a check is flagged, never dropped: the flags travel with the page.
 *
 * Measures are taken on the page brought to about 150 dpi (so thresholds
 * do not depend on the scanner's resolution):
 *   resolution   from the file's metadata, else estimated from the pixel
 *                size assuming the page is A4 (the register page size)
 *   ink          pixels darker than the paper (median gray) by more than
 *                30 levels and four times the paper's grain (robust
 *                standard deviation from the median absolute deviation)
 *   blank        fewer than 0.05% of pixels are ink
 *   too dark     the paper itself (median gray) is darker than 100
 *   too light    faded or over-exposed: the median ink level is within 60
 *                gray levels of the paper
 *   blurry       variance of the Laplacian, normalized by the ink contrast
 *   skew         projection-profile estimate in -10..+10 degrees
 */
#ifndef CIVREG_SCANNER_QUALITY_H
#define CIVREG_SCANNER_QUALITY_H

#include "core/err.h"
#include "image.h"

enum scan_quality_flag {
    SCAN_Q_LOW_RESOLUTION = 1u << 0, /* under 200 dpi */
    SCAN_Q_BLANK = 1u << 1,
    SCAN_Q_TOO_DARK = 1u << 2,
    SCAN_Q_TOO_LIGHT = 1u << 3,
    SCAN_Q_BLURRY = 1u << 4,
    SCAN_Q_SKEWED = 1u << 5,         /* more than 1.5 degrees */
};

enum scan_dpi_source {
    SCAN_DPI_METADATA = 0,
    SCAN_DPI_ESTIMATED = 1,
};

struct scan_quality {
    double dpi;                  /* the smaller of the two axes */
    enum scan_dpi_source dpi_source;
    int paper;                   /* median gray (0..255) */
    int ink;                     /* median gray of the ink pixels */
    double ink_ratio;            /* fraction of pixels counted as ink */
    double sharpness;            /* normalized variance of the Laplacian */
    double skew_degrees;         /* positive: the text runs up to the right */
    unsigned flags;              /* enum scan_quality_flag bits */
};

#define SCAN_QUALITY_MIN_DPI 200.0
#define SCAN_QUALITY_MAX_SKEW 1.5

/* Measure PAGE. Fails only on memory. */
int scan_quality_check(const struct scan_image *page, struct scan_quality *q, struct err *err)
    __attribute__((warn_unused_result));

/* Comma-separated flag names ("blank,skewed") into OUT; "ok" when none. */
const char *scan_quality_flags_str(unsigned flags, char *out, size_t size);

#endif
