/* civreg core: names in Latin A-Z for the MRZ (ICAO Doc 9303-3 section 6,
 * "Transliterations recommended for use by States").
 *
 * The MRZ carries only A-Z and '<'. A name is brought there in steps:
 *  1. NFC, so that a letter and its combining marks are one code point;
 *  2. the tables below: Latin letters whose recommended form has several
 *     letters (Ä AE, Å AA, Ø OE, Þ TH, ß SS ...) or that Unicode does not
 *     decompose (Đ, Ħ, Ł, Ŧ, ı ...), the Cyrillic table and the Arabic table;
 *  3. any other letter goes through Unicode compatibility decomposition
 *     (NFKD, core/utf8.h): when that yields ASCII letters plus combining
 *     marks, the marks are dropped (É -> E, Ç -> C, Ǆ -> DZ). No hand-made
 *     accent table: Unicode's own data does that part;
 *  4. apostrophes are dropped; spaces and hyphens become the '<' between
 *     name components; anything else (digits, punctuation, scripts without
 *     a table) is replaced by '<' with a warning.
 * Sources of the tables: Doc 9303 (8th edition, 2021) Part 3 section 6 and
 * its Latin, Cyrillic and Arabic tables, cross-read with the dictionaries of
 * the public Python package mrz (Arg0s1080/mrz, latin_based.py, cyrillic.py,
 * arabic.py). Letters in Part 3's Latin table that map to a single base
 * letter are not listed: step 3 derives them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/translit.h"
#include "core/utf8.h"

struct translit {
    uint32_t cp;
    const char *mrz; /* "" = dropped */
};

/* Sorted by code point (the unit tests check the order). Upper and lower
 * case are both listed so a lookup is one binary search. */
static const struct translit table[] = {
    /* Latin: Doc 9303-3 recommended multi-letter forms, and letters without
     * a Unicode decomposition. */
    { 0x00C4, "AE" }, /* Ä */
    { 0x00C5, "AA" }, /* Å */
    { 0x00C6, "AE" }, /* Æ */
    { 0x00D0, "D" },  /* Ð */
    { 0x00D6, "OE" }, /* Ö */
    { 0x00D8, "OE" }, /* Ø */
    { 0x00DC, "UE" }, /* Ü */
    { 0x00DE, "TH" }, /* Þ */
    { 0x00DF, "SS" }, /* ß */
    { 0x00E4, "AE" }, { 0x00E5, "AA" }, { 0x00E6, "AE" }, { 0x00F0, "D" },  { 0x00F6, "OE" },
    { 0x00F8, "OE" }, { 0x00FC, "UE" }, { 0x00FE, "TH" },
    { 0x0110, "D" },  /* Đ */
    { 0x0111, "D" },
    { 0x0126, "H" },  /* Ħ */
    { 0x0127, "H" },
    { 0x0131, "I" },  /* ı dotless i */
    { 0x0132, "IJ" }, /* Ĳ */
    { 0x0133, "IJ" },
    { 0x0138, "K" },  /* ĸ */
    { 0x013F, "L" },  /* Ŀ */
    { 0x0140, "L" },
    { 0x0141, "L" },  /* Ł */
    { 0x0142, "L" },
    { 0x014A, "N" },  /* Ŋ */
    { 0x014B, "N" },
    { 0x0152, "OE" }, /* Œ */
    { 0x0153, "OE" },
    { 0x0166, "T" },  /* Ŧ */
    { 0x0167, "T" },
    /* Cyrillic (Doc 9303-3 table B). */
    { 0x0401, "E" },    /* Ё */
    { 0x0402, "D" },    /* Ђ */
    { 0x0403, "G" },    /* Ѓ */
    { 0x0404, "IE" },   /* Є */
    { 0x0405, "DZ" },   /* Ѕ */
    { 0x0406, "I" },    /* І */
    { 0x0407, "I" },    /* Ї */
    { 0x0408, "J" },    /* Ј */
    { 0x0409, "LJ" },   /* Љ */
    { 0x040A, "NJ" },   /* Њ */
    { 0x040B, "C" },    /* Ћ */
    { 0x040C, "K" },    /* Ќ */
    { 0x040E, "U" },    /* Ў */
    { 0x040F, "DZ" },   /* Џ */
    { 0x0410, "A" },    { 0x0411, "B" },  { 0x0412, "V" },  { 0x0413, "G" },
    { 0x0414, "D" },    { 0x0415, "E" },
    { 0x0416, "ZH" },   /* Ж */
    { 0x0417, "Z" },    { 0x0418, "I" },
    { 0x0419, "I" },    /* Й */
    { 0x041A, "K" },    { 0x041B, "L" },  { 0x041C, "M" },  { 0x041D, "N" },
    { 0x041E, "O" },    { 0x041F, "P" },  { 0x0420, "R" },  { 0x0421, "S" },
    { 0x0422, "T" },    { 0x0423, "U" },  { 0x0424, "F" },
    { 0x0425, "KH" },   /* Х */
    { 0x0426, "TS" },   /* Ц */
    { 0x0427, "CH" },   /* Ч */
    { 0x0428, "SH" },   /* Ш */
    { 0x0429, "SHCH" }, /* Щ */
    { 0x042A, "IE" },   /* Ъ */
    { 0x042B, "Y" },    /* Ы */
    { 0x042C, "" },     /* Ь soft sign: omitted */
    { 0x042D, "E" },    /* Э */
    { 0x042E, "IU" },   /* Ю */
    { 0x042F, "IA" },   /* Я */
    { 0x0462, "IE" },   /* Ѣ */
    { 0x046A, "U" },    /* Ѫ */
    { 0x0472, "F" },    /* Ѳ */
    { 0x0474, "Y" },    /* Ѵ */
    { 0x0490, "G" },    /* Ґ */
    { 0x04BA, "C" },    /* Һ */
    /* Arabic (Doc 9303-3 table C): letters; short vowels and other marks
     * are dropped. */
    { 0x0621, "XE" },  /* ء hamza */
    { 0x0622, "XAA" }, /* آ */
    { 0x0623, "XAE" }, /* أ */
    { 0x0624, "U" },   /* ؤ */
    { 0x0625, "I" },   /* إ */
    { 0x0626, "XI" },  /* ئ */
    { 0x0627, "A" },   /* ا */
    { 0x0628, "B" },   /* ب */
    { 0x0629, "XTA" }, /* ة */
    { 0x062A, "T" },   /* ت */
    { 0x062B, "XTH" }, /* ث */
    { 0x062C, "J" },   /* ج */
    { 0x062D, "XH" },  /* ح */
    { 0x062E, "XKH" }, /* خ */
    { 0x062F, "D" },   /* د */
    { 0x0630, "XDH" }, /* ذ */
    { 0x0631, "R" },   /* ر */
    { 0x0632, "Z" },   /* ز */
    { 0x0633, "S" },   /* س */
    { 0x0634, "XSH" }, /* ش */
    { 0x0635, "XSS" }, /* ص */
    { 0x0636, "XDZ" }, /* ض */
    { 0x0637, "XTT" }, /* ط */
    { 0x0638, "XZZ" }, /* ظ */
    { 0x0639, "E" },   /* ع */
    { 0x063A, "G" },   /* غ */
    { 0x0640, "" },    /* tatweel */
    { 0x0641, "F" },   /* ف */
    { 0x0642, "Q" },   /* ق */
    { 0x0643, "K" },   /* ك */
    { 0x0644, "L" },   /* ل */
    { 0x0645, "M" },   /* م */
    { 0x0646, "N" },   /* ن */
    { 0x0647, "H" },   /* ه */
    { 0x0648, "W" },   /* و */
    { 0x0649, "XAY" }, /* ى */
    { 0x064A, "Y" },   /* ي */
    { 0x064B, "" },    { 0x064C, "" }, { 0x064D, "" }, { 0x064E, "" }, /* harakat */
    { 0x064F, "" },    { 0x0650, "" }, { 0x0651, "" }, { 0x0652, "" },
    { 0x0670, "" },    /* superscript alef */
    { 0x0671, "XXA" }, /* ٱ */
    { 0x0679, "XXT" }, /* ٹ */
    { 0x067C, "XRT" }, /* ټ */
    { 0x067E, "P" },   /* پ */
    { 0x0681, "XKE" }, /* ځ */
    { 0x0685, "XXH" }, /* څ */
    { 0x0686, "XC" },  /* چ */
    { 0x0688, "XXD" }, /* ڈ */
    { 0x0689, "XDR" }, /* ډ */
    { 0x0691, "XXR" }, /* ڑ */
    { 0x0693, "XRR" }, /* ړ */
    { 0x0696, "XRX" }, /* ږ */
    { 0x0698, "XJ" },  /* ژ */
    { 0x069A, "XXS" }, /* ښ */
    { 0x06A9, "XKK" }, /* ک */
    { 0x06AB, "XXK" }, /* ګ */
    { 0x06AD, "XNG" }, /* ڭ */
    { 0x06AF, "XGG" }, /* گ */
    { 0x06BA, "XNN" }, /* ں */
    { 0x06BC, "XXN" }, /* ڼ */
    { 0x06BE, "XDO" }, /* ھ */
    { 0x06C0, "XYH" }, /* ۀ */
    { 0x06C1, "XXG" }, /* ہ */
    { 0x06C2, "XGE" }, /* ۂ */
    { 0x06C3, "XTG" }, /* ۃ */
    { 0x06CC, "XYA" }, /* ی */
    { 0x06CD, "XXY" }, /* ۍ */
    { 0x06D0, "Y" },   /* ې */
    { 0x06D2, "XYB" }, /* ے */
    { 0x06D3, "XBE" }, /* ۓ */
    { 0x1E9E, "SS" },  /* ẞ capital sharp s */
};

/* Lower-case Cyrillic folds onto the upper-case rows above. */
static uint32_t cyrillic_upper(uint32_t cp)
{
    if (cp >= 0x0430 && cp <= 0x044F)
        return cp - 0x20;
    if (cp >= 0x0450 && cp <= 0x045F)
        return cp - 0x50;
    if (cp >= 0x0460 && cp <= 0x04FF && (cp & 1))
        return cp - 1;
    return cp;
}

static int cmp_cp(const void *key, const void *elem)
{
    uint32_t a = *(const uint32_t *)key, b = ((const struct translit *)elem)->cp;
    return a < b ? -1 : a > b;
}

static const char *table_find(uint32_t cp)
{
    const struct translit *t;

    if (cp >= 0x0400 && cp <= 0x04FF)
        cp = cyrillic_upper(cp);
    t = bsearch(&cp, table, sizeof table / sizeof table[0], sizeof table[0], cmp_cp);
    return t ? t->mrz : NULL;
}

int translit_table_sorted(void)
{
    for (size_t i = 1; i < sizeof table / sizeof table[0]; i++)
        if (table[i - 1].cp >= table[i].cp)
            return 0;
    return 1;
}

static int is_combining(uint32_t cp)
{
    return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
           (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
           (cp >= 0xFE20 && cp <= 0xFE2F);
}

static int is_separator(uint32_t cp)
{
    return cp == ' ' || cp == '-' || cp == '\t' || cp == 0x00A0 || cp == 0x00AD ||
           (cp >= 0x2000 && cp <= 0x200A) || (cp >= 0x2010 && cp <= 0x2015) || cp == 0x202F ||
           cp == 0x3000 || cp == '<';
}

static int is_apostrophe(uint32_t cp)
{
    return cp == '\'' || cp == '`' || cp == 0x00B4 || cp == 0x02B9 || cp == 0x02BB ||
           cp == 0x02BC || cp == 0x02BD || cp == 0x2018 || cp == 0x2019 || cp == 0x201B ||
           cp == 0x2032;
}

/* Letters of CP's compatibility decomposition when it is ASCII letters plus
 * combining marks (into OUT, at most OUTSIZE-1 letters); 0 when it is not. */
static int decompose_latin(uint32_t cp, char *out, size_t outsize)
{
    char enc[4], *d = NULL;
    size_t dlen = 0, n = 0;
    int k = utf8_encode(cp, enc), ok = 0;

    if (k <= 0 || utf8_normalize(enc, (size_t)k, UTF8_NFKD, &d, &dlen, NULL) != 0)
        return 0;
    for (size_t i = 0; i < dlen;) {
        uint32_t c;
        int m = utf8_decode(d + i, dlen - i, &c);
        if (m <= 0)
            goto out;
        i += (size_t)m;
        if (is_combining(c))
            continue;
        if (c >= 'a' && c <= 'z')
            c -= 32;
        if (c >= 'A' && c <= 'Z' && n + 1 < outsize) {
            out[n++] = (char)c;
        } else {
            /* A base letter with its own table entry: Ǿ is Ø + acute,
             * and Ø is written OE (Doc 9303-3 table). */
            const char *t = table_find(c);
            size_t tl = t ? strlen(t) : 0;
            if (tl == 0 || n + tl >= outsize)
                goto out;
            memcpy(out + n, t, tl);
            n += tl;
        }
    }
    out[n] = '\0';
    ok = n > 0;
out:
    free(d);
    return ok;
}

#define SEEN_MAX 32

int translit_mrz_field(const char *utf8, size_t len, const char *prefix, struct buf *out,
                       struct buf *warnings, struct err *err)
{
    char *nfc = NULL;
    size_t nfclen = 0;
    uint32_t seen[SEEN_MAX];
    size_t nseen = 0;
    int pending_sep = 0, any = 0, rc = -1;

    if (!utf8_valid(utf8, len))
        return err_set(err, "not valid UTF-8");
    if (utf8_normalize(utf8, len, UTF8_NFC, &nfc, &nfclen, err) != 0)
        return -1;
    for (size_t i = 0; i < nfclen;) {
        uint32_t cp;
        char letters[16];
        const char *mrz = NULL;
        const char *what = NULL; /* warning kind, or NULL */
        int m = utf8_decode(nfc + i, nfclen - i, &cp);
        if (m <= 0) {
            err_set(err, "not valid UTF-8");
            goto out;
        }
        i += (size_t)m;
        if (cp >= 'a' && cp <= 'z') {
            letters[0] = (char)(cp - 32);
            letters[1] = '\0';
            mrz = letters;
        } else if (cp >= 'A' && cp <= 'Z') {
            letters[0] = (char)cp;
            letters[1] = '\0';
            mrz = letters;
        } else if (is_apostrophe(cp)) {
            continue; /* Doc 9303-3: apostrophes are omitted */
        } else if (is_separator(cp)) {
            pending_sep = any;
            continue;
        } else if ((mrz = table_find(cp)) != NULL) {
            what = "transliterated";
        } else if (decompose_latin(cp, letters, sizeof letters)) {
            mrz = letters;
            what = "transliterated";
        } else {
            what = "replaced";
        }
        if (what != NULL && warnings != NULL && (what[0] == 'r' || *mrz != '\0')) {
            size_t s = 0;
            while (s < nseen && seen[s] != cp)
                s++;
            if (s == nseen) {
                char enc[5] = { 0 };
                int k = utf8_encode(cp, enc);
                int w;
                if (nseen < SEEN_MAX)
                    seen[nseen++] = cp;
                if (k <= 0 || cp < 0x20 || cp == 0x7F)
                    enc[0] = '?', enc[1] = '\0';
                if (what[0] == 'r')
                    w = buf_printf(warnings, "%s%scharacter replaced: '%s' (U+%04X) has no MRZ form, written as '<'\n",
                                   prefix ? prefix : "", prefix ? ": " : "", enc, (unsigned)cp);
                else
                    w = buf_printf(warnings, "%s%stransliterated '%s' (U+%04X) as %s\n",
                                   prefix ? prefix : "", prefix ? ": " : "", enc, (unsigned)cp, mrz);
                if (w != 0) {
                    err_set(err, "warnings: out of memory or too long");
                    goto out;
                }
            }
        }
        if (what != NULL && what[0] == 'r') {
            pending_sep = any;
            continue;
        }
        if (*mrz == '\0')
            continue;
        if (pending_sep && buf_append_byte(out, '<') != 0)
            goto toolong;
        pending_sep = 0;
        if (buf_append_str(out, mrz) != 0)
            goto toolong;
        any = 1;
    }
    rc = 0;
    goto out;
toolong:
    err_set(err, "name too long");
out:
    free(nfc);
    return rc;
}

int translit_mrz(const char *utf8, size_t len, struct buf *out, struct buf *warnings,
                      struct err *err)
{
    return translit_mrz_field(utf8, len, NULL, out, warnings, err);
}
