/* civreg issuance: the printed data page of a travel document as a PDF at
 * true size, made with libharu.
 *
 *   TD3 (passport data page, Doc 9303-4): one page, 125.0 x 88.0 mm.
 *   TD1 (identity card, Doc 9303-5): two pages of 85.6 x 54.0 mm, the front
 *   (visual inspection zone with the portrait) and the back (further data
 *   and the three-line MRZ).
 *
 * The visual inspection zone shows names in national characters (DejaVu Sans
 * Condensed, embedded) with their MRZ transliteration beneath when it
 * differs; the MRZ is set in OCR-B (embedded) at 10 characters per 25.4 mm
 * at the line positions Doc 9303 prescribes (see datapage.c). The MRZ text
 * is taken as given (the same text the chip's DG1 carries) and checked: it
 * must parse as a valid MRZ of the page's format whose document number,
 * dates and sex agree with the visual zone.
 *
 * Fonts come from the binary (converted from Debian's fonts-ocr-b and
 * fonts-dejavu-core at build time) and reach libharu through an anonymous
 * memory file: nothing is written to disk. Thread-safe: each call has its
 * own libharu document.
 */
#ifndef CIVREG_ISSUANCE_DATAPAGE_H
#define CIVREG_ISSUANCE_DATAPAGE_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "issuance/icao/icao.h"

/* True page sizes in millimetres (Doc 9303-4 section 2.1, Doc 9303-5
 * section 2.1 (ISO/IEC 7810 ID-1)). */
#define DATAPAGE_TD3_WIDTH_MM 125.0
#define DATAPAGE_TD3_HEIGHT_MM 88.0
#define DATAPAGE_TD1_WIDTH_MM 85.6
#define DATAPAGE_TD1_HEIGHT_MM 54.0

/* Geometry of the MRZ as laid out (all in mm, from the page's left and
 * bottom edges), exposed so tests can measure the rendered page against it. */
struct datapage_mrz_geometry {
    int lines;             /* 2 (TD3) or 3 (TD1) */
    int chars;             /* 44 or 30 */
    double pitch;          /* character pitch: 2.54 */
    double first_left;     /* left edge of the first character cell */
    double centre[3];      /* reference centre line of each line, top first */
    double zone_low[3];    /* each line's printing zone: lowest ... */
    double zone_high[3];   /* ... and highest point allowed */
    double mrz_top;        /* top of the MRZ; the visual zone stays above */
    int page;              /* 1-based page carrying the MRZ */
};

/* The geometry for MRZ_TD3 or MRZ_TD1. Returns 0, or -1 for another format. */
int datapage_mrz_geometry(enum mrz_format format, struct datapage_mrz_geometry *g,
                          struct err *err);

/* What the page shows. Strings are UTF-8 owned by the caller (NULL or ""
 * where optional); images are borrowed bytes. */
struct datapage_input {
    enum mrz_format format;           /* MRZ_TD3 or MRZ_TD1 */
    const char *document_name;        /* "PASSPORT", "IDENTITY CARD" (required) */
    const char *document_code;        /* "P", "ID", ... (required) */
    const char *issuing_state;        /* code, "UTO" (required) */
    const char *issuing_state_name;   /* "Utopia" (optional) */
    const char *document_number;      /* required */
    const char *primary_identifier;   /* surname(s), national characters (required) */
    const char *secondary_identifier; /* given name(s) (optional) */
    const char *nationality;          /* code (required) */
    const char *nationality_name;     /* optional, printed beside the code */
    struct mrz_date date_of_birth;    /* required */
    const char *place_of_birth;       /* optional */
    char sex;                         /* 'F', 'M', 'X' or '<' (printed X) */
    const char *personal_number;      /* optional */
    struct mrz_date date_of_issue;    /* required */
    struct mrz_date date_of_expiry;   /* required */
    const char *authority;            /* issuing authority (required) */
    const unsigned char *photo;       /* JPEG (required) */
    size_t photo_len;
    const unsigned char *signature;   /* JPEG or PNG (optional) */
    size_t signature_len;
    const char *mrz;                  /* lines separated by '\n' (required) */
    const char *specimen_text;        /* e.g. "SPECIMEN": printed across (optional) */
};

/* Render the data page into PDF (appended). Returns 0, or -1 with a message
 * naming the field or image at fault; nothing is appended then. */
int datapage_render(const struct datapage_input *in, struct buf *pdf, struct err *err)
    __attribute__((warn_unused_result));

/* A data page from one JSON record: the members of `civreg mrz generate`
 * (format TD3 or TD1, document_code, issuing_state, primary_identifier,
 * secondary_identifier, document_number, nationality, date_of_birth, sex,
 * date_of_expiry, optional_data, optional_data_2) plus the visual zone's
 * own: document_name, issuing_state_name, nationality_name, place_of_birth,
 * date_of_issue (YYYY-MM-DD), authority, personal_number (default: TD3's
 * optional_data), specimen_text. The MRZ is generated from the same record
 * (mrz_generate_json) and appended to MRZ_OUT (may be NULL); the PDF is
 * appended to PDF. Unknown members are an error. */
int datapage_render_json(const json_t *record, const unsigned char *photo, size_t photo_len,
                         const unsigned char *signature, size_t signature_len, struct buf *pdf,
                         struct buf *mrz_out,
                         struct err *err) __attribute__((warn_unused_result));

#endif
