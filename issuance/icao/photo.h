/* civreg issuance: facial images and signature images handed in at
 * enrolment. A strict reader of the image headers (JPEG SOF, PNG IHDR) gives
 * the type and pixel size without decoding, so that an upload can be checked
 * and refused with a clear message before anything stores or prints it.
 * The portrait and signature checks also decode the whole image once
 * (bounded by PHOTO_MAX_SIDE) and refuse one that is truncated or corrupt.
 *
 * photo_inspect allocates nothing; none reads past LEN. Thread-safe.
 */
#ifndef CIVREG_ISSUANCE_PHOTO_H
#define CIVREG_ISSUANCE_PHOTO_H

#include <stddef.h>

#include "core/err.h"

enum photo_type { PHOTO_JPEG = 1, PHOTO_PNG = 2 };

struct photo_info {
    enum photo_type type;
    unsigned width, height; /* pixels, both > 0 */
    unsigned components;    /* JPEG: 1 gray, 3 YCbCr/RGB, 4 CMYK; PNG: channels */
    int progressive;        /* JPEG SOF2 (libharu embeds it as is) */
};

/* Largest image accepted anywhere (bytes). */
#define PHOTO_MAX_BYTES ((size_t)5 << 20)

/* Read the type and size of the JPEG or PNG image in DATA. Returns 0, or -1
 * with a message ("jpeg: no frame header before the scan", "png: ...",
 * "image: neither JPEG nor PNG"). */
int photo_inspect(const unsigned char *data, size_t len, struct photo_info *out,
                  struct err *err) __attribute__((warn_unused_result));

/* Portrait rules for enrolment: JPEG only (what DG2 and the data page
 * carry), at most PHOTO_MAX_BYTES, at least PHOTO_MIN_WIDTH x
 * PHOTO_MIN_HEIGHT pixels, at most PHOTO_MAX_SIDE on either side, grayscale
 * or colour (not CMYK), and width/height within PHOTO_ASPECT_TOLERANCE of
 * 35/45 (the 35 x 45 mm passport photograph), and decoding without error
 * or warning (a truncated or corrupt JPEG is refused). Returns 0, or -1
 * naming the rule broken with the measured value. OUT (may be NULL) gets
 * the header. */
#define PHOTO_MIN_WIDTH 240u
#define PHOTO_MIN_HEIGHT 300u
#define PHOTO_MAX_SIDE 6000u
#define PHOTO_ASPECT_TOLERANCE 0.06 /* relative to 35/45 */
int photo_check_portrait(const unsigned char *data, size_t len, struct photo_info *out,
                         struct err *err) __attribute__((warn_unused_result));

/* Signature images: JPEG or PNG, at most 1 MiB, at least 100 x 20 pixels,
 * wider than tall. Returns 0 or -1 naming the rule broken. */
#define SIGNATURE_MAX_BYTES ((size_t)1 << 20)
int photo_check_signature(const unsigned char *data, size_t len, struct photo_info *out,
                          struct err *err) __attribute__((warn_unused_result));

/* Decode the whole image once with the scanner's strict decoders (at most
 * PHOTO_MAX_SIDE a side): 0, or -1 with "WHAT: the image does not decode
 * cleanly (truncated or corrupt): ..." Used by the checks above and before
 * the PDF writer's own PNG reader sees a stored image. */
int photo_check_decodes(const unsigned char *data, size_t len, const char *what,
                        struct err *err) __attribute__((warn_unused_result));

/* "image/jpeg" or "image/png". */
const char *photo_media_type(enum photo_type t);

#endif
