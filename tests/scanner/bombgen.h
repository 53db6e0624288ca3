/* civreg tests: decompression bombs, built compactly in memory.
 *
 * Each returns a malloc'd file in *OUT (*LEN bytes) whose pixels are all
 * zero (black) and whose size is a tiny fraction of what it decodes to:
 * zlib-compressed zero rows (PNG, deflate TIFF whose pages all point at the
 * same strip), a JPEG whose frame header claims far more than its data, a
 * plain PGM whose header claims a huge page. Return 0, -1 on memory. */
#ifndef CIVREG_TEST_BOMBGEN_H
#define CIVREG_TEST_BOMBGEN_H

#include <stddef.h>
#include <stdint.h>

/* 8-bit grayscale PNG, W x H zeros, one IDAT per MiB of compressed data. */
int bomb_png(uint32_t w, uint32_t h, unsigned char **out, size_t *len);
/* PAGES pages of 8-bit gray W x H zeros, Adobe deflate, one strip a page. */
int bomb_tiff(uint32_t w, uint32_t h, unsigned pages, unsigned char **out, size_t *len);
/* A 16 x 16 baseline JPEG with its frame header patched to W x H. */
int bomb_jpeg(uint32_t w, uint32_t h, unsigned char **out, size_t *len);
/* A real progressive gray JPEG of W x H zeros (not a bomb: for deadlines). */
int bomb_jpeg_progressive(uint32_t w, uint32_t h, unsigned char **out, size_t *len);
/* "P2 W H 255" and a few samples. */
int bomb_pgm_plain(uint32_t w, uint32_t h, unsigned char **out, size_t *len);

/* The 90-byte PNG whose tEXt chunk claims 1990615333 bytes (libpng used to
 * allocate and clear them before finding the file ends). */
extern const unsigned char bomb_png_text[90];

/* Under AddressSanitizer, freed memory is held in a quarantine (256 MB by
 * default) that would count as resident: tests measuring memory keep it
 * small, for themselves (bombgen.c's __asan_default_options) and for the
 * civreg processes they start (this adds it to ASAN_OPTIONS). */
void bomb_small_quarantine(void);

/* Peak resident memory in bytes of a child running FN(ARG), measured with
 * wait4's ru_maxrss; *STATUS gets FN's return (exit code). -1 on fork
 * failure. */
long long bomb_peak_rss(int (*fn)(void *), void *arg, int *status);

#endif
