/* civreg tests: synthetic register-page scans.
 *
 * Renders barcodes (Code 128 through the scanner's own encoder, QR through
 * libqrencode, Code 39, EAN-13 and Interleaved 2 of 5 through the small
 * encoders here, written from the symbology specifications) and text-like
 * glyph rows onto white pages, degrades them the way real scans degrade
 * (rotation, blur, noise, fading, dark paper, JPEG loss, bilevel G4), and
 * writes them in every format the scanner reads. Deterministic: the same
 * seed gives the same bytes. */
#ifndef CIVREG_TEST_PAGEGEN_H
#define CIVREG_TEST_PAGEGEN_H

#include <stddef.h>
#include <stdint.h>

#include "scanner/barcode.h"
#include "scanner/image.h"

enum pg_symbology { PG_QR, PG_CODE128, PG_CODE39, PG_EAN13, PG_I25, PG_NONE };

/* ZBar's name for a symbology ("QR-Code", "CODE-128", ...). */
const char *pg_zbar_name(enum pg_symbology s);

int pg_page(struct scan_image *img, uint32_t w, uint32_t h, unsigned char paper);
void pg_rect(struct scan_image *img, long x, long y, long w, long h, unsigned char v);

/* Draw a symbol with its top-left at X,Y; MODULE is the narrowest element
 * in pixels. Returns the drawn width, or -1 (bad text or off the page). */
int pg_barcode(struct scan_image *img, enum pg_symbology s, long x, long y, int module,
               int height, const char *text);

/* A white 600x400 page carrying one symbol S of TEXT at (100, 120), MODULE
 * pixels a module and 80 high, and what RD reads on it: PAGE and SYMS
 * receive both (the caller releases them). Returns the drawn width, or -1
 * (bad text, or the reader failed: ERR says why). */
int pg_barcode_read(struct scan_reader *rd, enum pg_symbology s, int module, const char *text,
                    struct scan_image *page, struct scan_symbols *syms, struct err *err);

/* EAN-13 check digit appended to 12 digits (OUT gets 14 bytes). */
void pg_ean13_complete(const char *twelve, char *out);

/* Rows of text-like glyphs in the rectangle (SEED varies the glyphs). */
void pg_text(struct scan_image *img, long x, long y, long w, long h, int size, uint64_t seed);

/* Degradations (in place unless noted). */
int pg_rotate(struct scan_image *img, double degrees); /* about the centre, white fill */
int pg_blur(struct scan_image *img, int radius);        /* two box passes */
void pg_noise(struct scan_image *img, int amplitude, uint64_t seed);
void pg_levels(struct scan_image *img, int black, int white); /* 0->black, 255->white */

/* Writers. Return 0. */
int pg_write_pnm(const char *path, const struct scan_image *img);
int pg_write_png(const char *path, const struct scan_image *img);
int pg_write_jpeg(const char *path, const struct scan_image *img, int quality, int progressive);
/* Multi-page bilevel TIFF, CCITT Group 4, pixels < 128 black. */
int pg_write_tiff_g4(const char *path, const struct scan_image *pages, size_t n);
/* 8-bit gray TIFF with the given libtiff compression (LZW, Deflate, none). */
int pg_write_tiff_gray(const char *path, const struct scan_image *img, int compression);

/* xorshift64 */
uint64_t pg_rand(uint64_t *state);

#endif

/* ---- the generated corpus used by the tests and bench/scan ---- */
struct pg_expect {
    char file[64];   /* name inside the corpus folder */
    unsigned page;   /* 1-based page within the file */
    enum pg_symbology sym;
    char payload[64];
    const char *degradation;
};

/* Write N pages into DIR (existing folder) and describe each in EXPECT
 * (N entries, caller-allocated). *NFILES gets the number of files.
 * Returns 0. */
int pg_corpus(const char *dir, size_t n, uint64_t seed, struct pg_expect *expect, size_t *nfiles);
