/* civreg scanner: barcode reading with ZBar.
 *
 * Reads QR, Code 128, Code 39, Code 93, EAN-13/EAN-8/UPC-A/UPC-E, ISBN,
 * Interleaved 2 of 5 and Codabar: ZBar's defaults, as zbarimg, except
 * DataBar, which register pages do not carry and whose ZBar 0.23 decoder
 * prints assertion warnings on text-heavy pages. When a page yields nothing, the reader tries again on
 * cleaned-up copies (Otsu-binarized, reduced, enlarged) of the areas that
 * look like bars (scan_bar_regions) before giving up.
 * Reads too short for their symbology, or contained in a longer read of the
 * same symbology at the same place, are dropped (scan_symbols_drop_doubtful).
 *
 *   struct scan_reader *rd = NULL;
 *   struct scan_symbols syms = SCAN_SYMBOLS_INIT;
 *   scan_reader_new(&rd, &err);
 *   scan_read_barcodes(rd, &page, &syms, &err);
 *   ... syms.sym[i].type, .data, .len ...
 *   scan_symbols_release(&syms);
 *   scan_reader_free(rd);
 */
#ifndef CIVREG_SCANNER_BARCODE_H
#define CIVREG_SCANNER_BARCODE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "image.h"

/* Which image a symbol was found in. */
enum scan_pass {
    SCAN_PASS_ORIGINAL = 0,
    SCAN_PASS_BINARIZED = 1, /* Otsu threshold */
    SCAN_PASS_REDUCED = 2,   /* box-filtered to half size, then binarized */
    SCAN_PASS_ENLARGED = 3,  /* doubled (small symbols at low resolution) */
};

struct scan_symbol {
    char type[24];       /* ZBar's name, as zbarimg prints it: "QR-Code", "CODE-128",
                            "CODE-39", "EAN-13", "I2/5", ... */
    unsigned char *data; /* payload bytes (owned, NUL-terminated for convenience) */
    size_t len;
    /* Bounding box of the symbol's outline points, in page pixels. */
    int x, y, width, height;
    int orientation;     /* degrees the symbol is turned: 0, 90, 180, 270; -1 unknown */
    int quality;         /* ZBar's quality score (higher is better) */
    enum scan_pass pass;
};

struct scan_symbols {
    struct scan_symbol *sym;
    size_t count;
};

#define SCAN_SYMBOLS_INIT { NULL, 0 }

struct scan_reader;

/* A reader with ZBar's default symbologies enabled. Free with
 * scan_reader_free (NULL is a no-op). Not for concurrent use: one per thread. */
int scan_reader_new(struct scan_reader **out, struct err *err) __attribute__((warn_unused_result));
void scan_reader_free(struct scan_reader *rd);

/* Turn the retries on cleaned-up images on (the default) or off. */
void scan_reader_set_retry(struct scan_reader *rd, int on);

/* Stop between passes once scan_clock_ms() reaches DEADLINE_MS (0: never):
 * scan_read_barcodes then fails with SCAN_E_DEADLINE. */
void scan_reader_set_deadline(struct scan_reader *rd, int64_t deadline_ms);

/* Read every barcode on PAGE into OUT (emptied first). Finding nothing is
 * success with OUT->count == 0. Fails on memory (-1) or past the deadline
 * (SCAN_E_DEADLINE). */
int scan_read_barcodes(struct scan_reader *rd, const struct scan_image *page,
                       struct scan_symbols *out, struct err *err)
    __attribute__((warn_unused_result));

void scan_symbols_release(struct scan_symbols *syms);

/* The fewest characters a read of TYPE (ZBar's name) may carry: 8 for
 * Interleaved 2 of 5 ("I2/5"), 6 for Codabar, 4 for Code 39, 0 (no bound
 * beyond ZBar's) for the rest. These symbologies have no mandatory check
 * character, so a damaged symbol can decode as a shorter valid one; ZBar is
 * configured with the same bounds, and scan_read_barcodes drops anything
 * shorter. */
size_t scan_min_length(const char *type);

/* Drop doubtful reads from SYMS, keeping the order of the rest: a read
 * shorter than scan_min_length, and conflicting reads of one symbol: two
 * reads of the same symbology at the same place (boxes touching, within
 * half the symbol's size), one payload inside the other. That is ZBar
 * decoding a damaged symbol partly (I2/5 "274774" beside "85274774") or
 * running on into neighbouring print ("5385274774"). The read more scan
 * lines agree on (ZBar's quality) is kept; at equal quality neither is:
 * reporting nothing is better than reporting something false. Returns the
 * number dropped. */
size_t scan_symbols_drop_doubtful(struct scan_symbols *syms);

/* A rectangle of page pixels. */
struct scan_rect {
    uint32_t x, y, width, height;
};

/* Where PAGE looks like it carries linear barcodes: blocks of 16 x 16
 * pixels whose gray level changes at least 8 levels a pixel on average
 * across one direction and three times less along the other (bars), kept
 * when the next block along the bars is alike, joined into groups that
 * fill half their box, grown by a quiet-zone margin, overlapping ones
 * merged.
 * Writes up to MAX rectangles into OUT (top-left corners on even pixels)
 * and returns how many: 0 when nothing looks like bars, or 1 covering the
 * whole page when the bar-like areas are many or cover most of it. The
 * retries run on these rectangles only. Fails (-1) only on memory. */
int scan_bar_regions(const struct scan_image *page, struct scan_rect *out, size_t max,
                     struct err *err) __attribute__((warn_unused_result));

/* The pass's name ("original", "binarized", "reduced", "enlarged"). */
const char *scan_pass_name(enum scan_pass pass);

#endif
