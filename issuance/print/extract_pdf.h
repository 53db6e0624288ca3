/* civreg issuance: the certified birth extract as a PDF (A4, libharu), with
 * its visible digital seal printed as a QR code (libqrencode).
 *
 * Everything the page states about the birth is taken from the sealed
 * message, so the printed text and the seal cannot disagree: a reader who
 * scans the QR (civreg seal verify) sees exactly what the page says.
 */
#ifndef CIVREG_ISSUANCE_EXTRACT_PDF_H
#define CIVREG_ISSUANCE_EXTRACT_PDF_H

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

#define EXTRACT_PDF_MAX ((size_t)8 << 20)
/* DejaVu Sans (Debian fonts-dejavu-core): Latin, Greek and Cyrillic names. */
#define EXTRACT_FONT_DEFAULT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

/* Render EXTRACT (as registry_extract_issue returns it: office_name,
 * issued_by, issued_at, payload, seal.data.msg ...) into OUT (PDF bytes,
 * appended). FONT is a TrueType file for the text (NULL = the default);
 * names are drawn in UTF-8 through it. Fails naming what is missing. */
int extract_pdf_render(const json_t *extract, const char *font, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));

/* The QR code of PAYLOAD as a module matrix: *MODULES (malloc'd, SIZE*SIZE
 * bytes, 1 = dark) at error correction level M, 8-bit mode. */
int extract_qr_modules(const char *payload, unsigned char **modules, int *size, struct err *err)
    __attribute__((warn_unused_result));

#endif
