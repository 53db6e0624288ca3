/* civreg scanner: what the PNG decoder and encoder share of libpng. */
#ifndef CIVREG_SCANNER_PNG_COMMON_H
#define CIVREG_SCANNER_PNG_COMMON_H

#include <png.h>

#include "core/err.h"

/* The info structure of PNG (a read or write structure just created, NULL
 * when libpng could not create it) into *INFO. Returns 0, or -1 with
 * "png: out of memory" in ERR; the caller destroys PNG in every case. */
int scan_png_info(png_structp png, png_infop *info, struct err *err)
    __attribute__((warn_unused_result));

#endif
