/* civreg issuance/print: the libharu set-up every page shares (pdf.c):
 * sizes in millimetres, the first-error capture, the embedded fonts, text
 * and saving. Not API outside issuance/print/. */
#ifndef CIVREG_ISSUANCE_PRINT_INT_H
#define CIVREG_ISSUANCE_PRINT_INT_H

#include <hpdf.h>
#include <stdbool.h>

#include "core/buf.h"
#include "core/err.h"

/* Layouts are written in millimetres; libharu speaks points (1/72 inch). */
#define PRINT_PT_PER_MM (72.0 / 25.4)
#define PRINT_MM(x) ((HPDF_REAL)((x) * PRINT_PT_PER_MM))

/* libharu reports errors through a callback and carries on; a page keeps
 * the first one and fails when it sees it. */
struct print_status {
    HPDF_STATUS error, detail;
};

/* The error callback for HPDF_New (USER is a struct print_status). */
void print_on_error(HPDF_STATUS error, HPDF_STATUS detail, void *user);

/* A new document reporting into ST: compressed, UTF-8 encodings enabled,
 * creator "civreg", TITLE. NULL when libharu cannot start (out of memory). */
HPDF_Doc print_doc_new(struct print_status *st, const char *title);

/* 1, with "WHAT: libharu error 0x.. (detail ..)" in ERR, when libharu has
 * reported an error on the document; 0 otherwise. */
int print_failed(const struct print_status *st, const char *what, struct err *err);

/* Append the finished document to OUT (nothing appended on failure). WHAT
 * starts the messages ("data page", "extract"). */
int print_save(HPDF_Doc pdf, const struct print_status *st, const char *what, struct buf *out,
               struct err *err) __attribute__((warn_unused_result));

/* Write the finished document to PATH, replacing it atomically. */
int print_save_file(HPDF_Doc pdf, const struct print_status *st, const char *what,
                    const char *path, struct err *err) __attribute__((warn_unused_result));

/* libharu keeps large tables on the stack (the TrueType CID font of the
 * visual zone builds a 64K-entry glyph map there; HPDF_Type0Font_New
 * overflowed a web server worker's stack), more than the worker threads of
 * the web server have. A page is rendered by FN(ARG) on a thread of its own
 * with a stack that fits, whatever thread calls; this returns once FN has
 * run, or -1 with "WHAT: cannot ... the rendering thread" in ERR when the
 * thread could not start (FN has not run). */
int print_on_render_thread(void *(*fn)(void *), void *arg, const char *what, struct err *err)
    __attribute__((warn_unused_result));

/* Fonts carried inside the binary (print/CMakeLists.txt). */
#define PRINT_FONT_OCRB "OCRB.ttf"             /* OCR-B, for the MRZ */
#define PRINT_FONT_VIZ "DejaVuSansCondensed.ttf" /* names in national characters */

/* A document whose embedded fonts are parsed once and kept from page to
 * page (pdf.c). */
struct print_doc {
    HPDF_Doc pdf;
    struct print_status st;
    const char *fonts[2]; /* OCR-B and the visual zone's font, once parsed */
};

/* A new document (print_doc_new's settings) for one page, taken from the
 * process's idle documents, whose fonts libharu has already parsed, or
 * made. NULL when libharu cannot start (out of memory). */
struct print_doc *print_doc_take(const char *title);

/* Give D back when its page is done: kept for the next page when REUSE
 * and libharu reported no error, freed otherwise. NULL is a no-op. */
void print_doc_give(struct print_doc *d, bool reuse);

/* The embedded TrueType font NAME in D (embedded and subset in the
 * document) with ENCODING (NULL: the font's own); parsed only the first
 * time D uses it. */
int print_font_embedded(struct print_doc *d, const char *name, const char *encoding,
                        HPDF_Font *out, struct err *err) __attribute__((warn_unused_result));

/* TEXT at (X, Y) points in FONT at SIZE, centred on X when CENTRED. */
void print_text(HPDF_Page page, HPDF_Font font, double size, double x, double y,
                const char *text, int centred);

#endif
