/* civreg registry: name keys for search and duplicate detection.
 *
 * Paper registers spell one name many ways: with or without accents, in
 * Cyrillic or Latin, "Müller" or "Mueller". Every name is folded into a key
 * of uppercase A-Z words (through the Doc 9303 transliteration of
 * core/translit.h, the one the MRZ uses), and
 * each word gets a phonetic key that forgets vowels, doubled letters and
 * the spelling of one sound (SCH/SH/Ш, PH/F, C/K, Z/S, W/V). Jaro-Winkler
 * compares folded words for typos. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/translit.h"
#include "core/utf8.h"
#include "search.h"

/* Append the A-Z/0-9 words of S (LEN bytes; anything else separates words),
 * uppercased, single spaces between words. */
static int words_out(const char *s, size_t len, struct buf *out)
{
    bool sep = out->len > 0;
    bool inword = false;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'a' && c <= 'z')
            c = (unsigned char)(c - 'a' + 'A');
        if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
            if (!inword && sep && buf_append_byte(out, ' ') != 0)
                return -1;
            if (buf_append_byte(out, c) != 0)
                return -1;
            inword = true;
            sep = true;
        } else if (c == '\'' || c == 0x60) {
            /* apostrophes join: O'Brien -> OBRIEN (Doc 9303-3 drops them) */
        } else {
            inword = false;
        }
    }
    return 0;
}

/* Whether S holds only ASCII letters, spaces, hyphens and apostrophes
 * (most names): translit_mrz uppercases the letters, drops the apostrophes
 * and makes the rest separators, and its NFC form is S itself, so
 * words_out of S is the key, without the transliteration's decoding and
 * normalization (a tenth of `record import`, every name folded twice). */
static bool plain_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == ' ' || c == '-' ||
              c == '\'' || c == '`'))
            return false;
    }
    return true;
}

int registry_name_fold(const char *utf8, size_t len, struct buf *out, struct err *err)
{
    struct buf t = BUF_INIT(len * 4 + 64);
    int rc = -1;

    if (plain_ascii(utf8, len))
        return words_out(utf8, len, out) != 0 ? err_set(err, "name: too long") : 0;
    if (!utf8_valid(utf8, len))
        return err_set(err, "name: invalid UTF-8");
    if (translit_mrz(utf8, len, &t, NULL, err) != 0)
        goto out;
    for (size_t i = 0; i < t.len; i++)
        if (t.data[i] == '<')
            t.data[i] = ' ';
    if (words_out((const char *)t.data, t.len, out) != 0) {
        err_set(err, "name: too long");
        goto out;
    }
    rc = 0;
out:
    buf_release(&t);
    return rc;
}

static bool is_vowel(char c)
{
    return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U' || c == 'Y';
}

static bool at(const char *w, size_t len, size_t i, const char *s)
{
    size_t n;
    if (w[i] != s[0])
        return false;
    n = strlen(s);
    return i + n <= len && memcmp(w + i, s, n) == 0;
}

void registry_name_phonetic(const char *w, size_t len, char out[REGISTRY_PHONETIC_MAX + 1])
{
    char sounds[64];
    size_t n = 0, o = 0;

    /* 1. one letter per sound */
    for (size_t i = 0; i < len && n < sizeof sounds;) {
        char c = w[i];
        char s;
        size_t step = 1;
        if (c >= '0' && c <= '9') {
            i++;
            continue;
        }
        if (at(w, len, i, "SCH") || at(w, len, i, "SHCH")) {
            s = 'S';
            step = at(w, len, i, "SHCH") ? 4 : 3;
        } else if (at(w, len, i, "CHR")) {
            s = 'K';
            step = 2;
        } else if (at(w, len, i, "CH") || at(w, len, i, "SH") || at(w, len, i, "SZ") ||
                   at(w, len, i, "CS") || at(w, len, i, "TS") || at(w, len, i, "TZ") ||
                   at(w, len, i, "DZ")) {
            s = 'S';
            step = 2;
        } else if (at(w, len, i, "PH")) {
            s = 'F';
            step = 2;
        } else if (at(w, len, i, "KH") || at(w, len, i, "GH")) {
            s = at(w, len, i, "KH") ? 'H' : 'G';
            step = 2;
        } else if (at(w, len, i, "ZH") || at(w, len, i, "DJ") || at(w, len, i, "DZH")) {
            s = 'J';
            step = at(w, len, i, "DZH") ? 3 : 2;
        } else if (at(w, len, i, "CK") || at(w, len, i, "QU")) {
            s = 'K';
            step = 2;
        } else if (at(w, len, i, "TH") || at(w, len, i, "DT")) {
            s = 'T';
            step = 2;
        } else if (c == 'C') {
            char nx = i + 1 < len ? w[i + 1] : 0;
            s = (nx == 'E' || nx == 'I' || nx == 'Y') ? 'S' : 'K';
        } else if (c == 'Q') {
            s = 'K';
        } else if (c == 'Z') {
            s = 'S';
        } else if (c == 'W') {
            s = 'V';
        } else if (c == 'X') {
            s = 'K';
            if (n + 1 < sizeof sounds)
                sounds[n++] = 'K';
            s = 'S';
        } else if (c == 'J') {
            s = 'J';
        } else if (is_vowel(c)) {
            s = 'A';
        } else {
            s = c;
        }
        sounds[n++] = s;
        i += step;
    }
    /* 2. first sound, then consonants without repeats, vowels and H */
    for (size_t i = 0; i < n && o < REGISTRY_PHONETIC_MAX; i++) {
        char s = sounds[i];
        if (i > 0 && (s == 'A' || s == 'H'))
            continue;
        if (o > 0 && out[o - 1] == s)
            continue;
        out[o++] = s;
    }
    out[o] = '\0';
}

double registry_jaro_winkler(const char *a, size_t alen, const char *b, size_t blen)
{
    bool am[64] = { false }, bm[64] = { false };
    size_t match = 0, trans = 0, k = 0, prefix = 0, window;
    double m, jaro;

    if (alen == 0 && blen == 0)
        return 1.0;
    if (alen == 0 || blen == 0)
        return 0.0;
    if (alen > 64)
        alen = 64;
    if (blen > 64)
        blen = 64;
    window = (alen > blen ? alen : blen) / 2;
    window = window > 0 ? window - 1 : 0;
    for (size_t i = 0; i < alen; i++) {
        size_t lo = i > window ? i - window : 0;
        size_t hi = i + window + 1 < blen ? i + window + 1 : blen;
        for (size_t j = lo; j < hi; j++) {
            if (bm[j] || a[i] != b[j])
                continue;
            am[i] = bm[j] = true;
            match++;
            break;
        }
    }
    if (match == 0)
        return 0.0;
    for (size_t i = 0; i < alen; i++) {
        if (!am[i])
            continue;
        while (!bm[k])
            k++;
        if (a[i] != b[k])
            trans++;
        k++;
    }
    m = (double)match;
    jaro = (m / (double)alen + m / (double)blen + (m - (double)trans / 2.0) / m) / 3.0;
    while (prefix < 4 && prefix < alen && prefix < blen && a[prefix] == b[prefix])
        prefix++;
    return jaro + (double)prefix * 0.1 * (1.0 - jaro);
}
