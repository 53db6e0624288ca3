/* civreg fuzz targets: one image decoder (and the quality measures on what it
 * decodes), with small limits so a claimed size can never exhaust memory. */
#ifndef CIVREG_FUZZ_DECODER_H
#define CIVREG_FUZZ_DECODER_H

#include <stdlib.h>

#include "fuzz.h"
#include "scanner/quality.h"

static inline int fuzz_decoder(scan_decode_fn *decode, const uint8_t *data, size_t size)
{
    const struct scan_limits limits = { 2048, 2048, 1u << 20, 8, 4u << 20 };
    struct scan_pages pages = SCAN_PAGES_INIT;
    struct err err = ERR_INIT;

    if (decode(data, size, "fuzz", &limits, &pages, &err) == 0) {
        for (size_t i = 0; i < pages.count; i++) {
            struct scan_quality q;
            if (pages.page[i].width * pages.page[i].height < (1u << 20) &&
                scan_quality_check(&pages.page[i], &q, &err) != 0)
                abort();
        }
        scan_pages_release(&pages);
    } else if (pages.count != 0 || pages.page != NULL) {
        abort(); /* failure must leave nothing behind */
    }
    return 0;
}

#endif
