/* civreg scanner: volume separator sheets and Code 128.
 *
 * A register book is scanned as a stream of pages; a separator sheet in the
 * stream starts a new volume. Its Code 128 barcode carries
 *
 *     CRVS1|<office>|<year>|<volume>
 *
 * CRVS1 names this payload layout (version 1); office is the office code
 * ([A-Z0-9]{2,8}, as in civreg.conf), year the register year (four digits,
 * 1800-2999), volume the book's number within the year ([A-Z0-9-]{1,12}).
 */
#ifndef CIVREG_SCANNER_SEPARATOR_H
#define CIVREG_SCANNER_SEPARATOR_H

#include <stddef.h>

#include "core/err.h"

#define SCAN_SEPARATOR_PREFIX "CRVS1|"

struct scan_separator {
    char office[9];
    int year;
    char volume[13];
};

/* Check the fields and write the payload into OUT (NUL-terminated). */
int scan_separator_format(const struct scan_separator *sep, char *out, size_t size,
                          struct err *err) __attribute__((warn_unused_result));

/* Parse a barcode payload. Returns 0 and fills SEP when DATA is a valid
 * separator payload, -1 (with a message) otherwise. */
int scan_separator_parse(const unsigned char *data, size_t len, struct scan_separator *sep,
                         struct err *err) __attribute__((warn_unused_result));

/* Code 128 (ISO/IEC 15417) in code set B, with code set C for runs of
 * digits. TEXT must be printable ASCII (32..126). Writes the bar and space
 * widths in modules (bar first; start, data, check and stop characters, no
 * quiet zones) into WIDTHS (at most MAX entries) and returns their count,
 * or -1 with a message. */
int scan_code128_widths(const char *text, unsigned char *widths, size_t max, struct err *err)
    __attribute__((warn_unused_result));

#endif
