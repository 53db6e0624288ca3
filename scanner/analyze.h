/* civreg scanner: the whole per-page analysis (barcodes, separator payload,
 * quality) and its JSON description, shared by `civreg scan`, the import
 * and the benchmark.
 *
 *   struct scan_page_report r = SCAN_PAGE_REPORT_INIT;
 *   scan_analyze_page(reader, &pages.page[i], SCAN_ANALYZE_ALL, &r, &err);
 *   json_t *j = scan_page_report_json(&r);   // new reference
 *   scan_page_report_release(&r);
 */
#ifndef CIVREG_SCANNER_ANALYZE_H
#define CIVREG_SCANNER_ANALYZE_H

#include <jansson.h>
#include <stdbool.h>

#include "barcode.h"
#include "image.h"
#include "quality.h"
#include "separator.h"

enum {
    SCAN_ANALYZE_BARCODES = 1u << 0,
    SCAN_ANALYZE_QUALITY = 1u << 1,
    SCAN_ANALYZE_ALL = 3u,
};

struct scan_page_report {
    uint32_t width, height;
    struct scan_symbols symbols;
    bool is_separator;               /* a symbol carries a CRVS1 payload */
    struct scan_separator separator; /* valid when is_separator */
    bool has_quality;
    struct scan_quality quality;
};

#define SCAN_PAGE_REPORT_INIT { 0, 0, SCAN_SYMBOLS_INIT, false, { { 0 }, 0, { 0 } }, false, { 0 } }

/* Analyse PAGE (WHAT: SCAN_ANALYZE_* bits; RD may be NULL without
 * SCAN_ANALYZE_BARCODES). Fails only on memory. */
int scan_analyze_page(struct scan_reader *rd, const struct scan_image *page, unsigned what,
                      struct scan_page_report *out, struct err *err)
    __attribute__((warn_unused_result));

void scan_page_report_release(struct scan_page_report *r);

/* JSON object describing the report (new reference, NULL on memory):
 * {"width","height","barcodes":[{"type","data" (UTF-8 text) or
 *  "data_base64" (other bytes),"x","y","width","height","orientation",
 *  "pass"}],"separator":{"office","year","volume"}|null,"quality":{"flags":[...],
 *  "dpi","dpi_source","paper","ink","ink_ratio_ppm","sharpness_milli",
 *  "skew_centidegrees"}}. Integers only (canonical JSON has no floats). */
json_t *scan_page_report_json(const struct scan_page_report *r);

#endif
