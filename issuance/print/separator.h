/* civreg issuance/print: the printed volume separator sheet. The payload
 * and its Code 128 encoding are the scanner's (scanner/separator.h), which
 * reads the sheet back. */
#ifndef CIVREG_ISSUANCE_PRINT_SEPARATOR_H
#define CIVREG_ISSUANCE_PRINT_SEPARATOR_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "scanner/separator.h"

/* Write the printable separator sheet (A4 PDF: title, fields in words, the
 * Code 128 barcode and its text) to PATH, replacing it atomically. */
int print_separator_pdf(const struct scan_separator *sep, const char *path, struct err *err)
    __attribute__((warn_unused_result));

/* The sheets SEPS[0..N) (one A4 page each) as one PDF appended to OUT:
 * what the browser previews and prints. */
int print_separator_pdf_buf(const struct scan_separator *seps, size_t n, struct buf *out,
                            struct err *err) __attribute__((warn_unused_result));

#endif
