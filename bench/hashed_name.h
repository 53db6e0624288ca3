/* civreg: a made-up name from syllables, a pure function of (K, PART), for
 * the national benchmark (bench/national) and test (tests/integration/
 * test_national.c): records whose names do not resemble each other, so that
 * the duplicate search stays quiet, and that both sides of a sync can
 * compute again without storing them. Header-only so both build it. */
#ifndef CIVREG_HASHED_NAME_H
#define CIVREG_HASHED_NAME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Write SYLLABLES two-letter syllables (fewer if SIZE is short), the first
 * letter capitalized, into OUT. */
static inline void hashed_name(unsigned k, unsigned part, int syllables, char *out, size_t size)
{
    static const char *const syl[] = { "ka", "mo", "te", "ri", "su", "na", "lo", "bi",
                                       "du", "fe", "ga", "hu", "ji", "ku", "ma", "ne",
                                       "po", "ra", "si", "to", "vu", "wa", "ya", "ze" };
    uint64_t x = ((uint64_t)k * 2654435761u + part * 40503u) ^ 0x9e3779b97f4a7c15ull;
    size_t len = 0;
    for (int i = 0; i < syllables && len + 3 < size; i++) {
        x ^= x >> 13;
        x *= 0xff51afd7ed558ccdull;
        x ^= x >> 29;
        memcpy(out + len, syl[x % 24], 2);
        len += 2;
    }
    out[len] = '\0';
    out[0] = (char)(out[0] - 32);
}

#endif
