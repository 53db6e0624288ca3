/* civreg scanner: Netpbm PBM/PGM/PPM (P1-P6) to grayscale, our own strict
 * parser after the Netpbm format pages (pbm(5), pgm(5), ppm(5)).
 *
 * Header: magic, whitespace, width, height, [maxval], one whitespace byte
 * (raw formats); '#' comments run to end of line between header tokens.
 * maxval is 1..65535; samples above maxval are errors, as are short data
 * and bad tokens. Several images concatenated in one stream are pages. */
#include <stdlib.h>
#include <string.h>

#include "scanner_int.h"

struct pnm_rd {
    const unsigned char *p;
    size_t len, pos;
};

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Skip whitespace and comments. */
static void skip_ws(struct pnm_rd *r)
{
    while (r->pos < r->len) {
        if (is_ws(r->p[r->pos])) {
            r->pos++;
        } else if (r->p[r->pos] == '#') {
            while (r->pos < r->len && r->p[r->pos] != '\n' && r->p[r->pos] != '\r')
                r->pos++;
        } else {
            break;
        }
    }
}

/* An unsigned decimal header token up to MAX. Returns 0, -1 (missing or
 * not a number), -2 (over MAX). */
static int read_uint(struct pnm_rd *r, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    size_t start;

    skip_ws(r);
    start = r->pos;
    while (r->pos < r->len && r->p[r->pos] >= '0' && r->p[r->pos] <= '9') {
        v = v * 10 + (uint64_t)(r->p[r->pos] - '0');
        if (v > max)
            return -2;
        r->pos++;
    }
    if (r->pos == start)
        return -1;
    if (r->pos < r->len && !is_ws(r->p[r->pos]) && r->p[r->pos] != '#')
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* One plain-format sample: decimal (P2/P3) or a single 0/1 digit (P1, whose
 * digits need no separating whitespace). */
static int read_plain(struct pnm_rd *r, int bit, uint32_t maxval, uint32_t *out)
{
    skip_ws(r);
    if (r->pos >= r->len)
        return -1;
    if (bit) {
        unsigned char c = r->p[r->pos];
        if (c != '0' && c != '1')
            return -1;
        r->pos++;
        *out = (uint32_t)(c - '0');
        return 0;
    }
    return read_uint(r, maxval, out) == 0 ? 0 : -1;
}

static unsigned char scale(uint32_t v, uint32_t maxval)
{
    return maxval == 255 ? (unsigned char)v : (unsigned char)(((uint64_t)v * 255 + maxval / 2) / maxval);
}

static int decode_one(struct pnm_rd *r, const char *name, const struct scan_limits *limits,
                      uint64_t *total, struct scan_pages *out, struct err *err)
{
    const char *nm = SCAN_NAME(name);
    size_t pageno = out->count + 1;
    struct scan_image *img;
    uint32_t w, h, maxval = 1;
    int kind, plain, ch, rc;

    if (r->len - r->pos < 2 || r->p[r->pos] != 'P' || r->p[r->pos + 1] < '1' ||
        r->p[r->pos + 1] > '6')
        return err_set(err, "pnm: %s image %zu: bad magic number (P1 to P6 expected)", nm, pageno);
    kind = r->p[r->pos + 1] - '0';
    r->pos += 2;
    if (r->pos >= r->len || (!is_ws(r->p[r->pos]) && r->p[r->pos] != '#'))
        return err_set(err, "pnm: %s image %zu: no whitespace after the magic number", nm, pageno);
    plain = kind <= 3;
    ch = kind == 3 || kind == 6 ? 3 : 1;
    if ((rc = read_uint(r, UINT32_MAX, &w)) != 0 || (rc = read_uint(r, UINT32_MAX, &h)) != 0)
        return err_set(err, "pnm: %s image %zu: %s", nm, pageno,
                       rc == -2 ? "width or height out of range" : "bad or missing width/height");
    if (kind != 1 && kind != 4) {
        if ((rc = read_uint(r, 65535, &maxval)) != 0 || maxval == 0)
            return err_set(err, "pnm: %s image %zu: maxval must be 1 to 65535", nm, pageno);
    }
    if ((rc = scan_check_dims(w, h, limits, total, "pnm", name, err)) != 0)
        return rc;
    /* Exactly one whitespace byte ends the header of raw formats. */
    if (!plain) {
        if (r->pos >= r->len || !is_ws(r->p[r->pos]))
            return err_set(err, "pnm: %s image %zu: header not followed by whitespace", nm, pageno);
        r->pos++;
    }
    {
        /* Plain samples take at least one byte each (P1 digits need no
         * separator; P2/P3 samples are separated by whitespace), so a short
         * file is refused before its page is allocated, as raw ones are. */
        uint64_t need, n = (uint64_t)w * h * (uint64_t)ch;
        if (kind == 4)
            need = (uint64_t)((w + 7) / 8) * h;
        else if (!plain)
            need = n * (maxval > 255 ? 2u : 1u);
        else
            need = kind == 1 ? n : 2 * n - 1;
        if (need > r->len - r->pos)
            return err_set(err, "pnm: %s image %zu: truncated (%llu bytes of pixel data expected, "
                                "%zu present)", nm, pageno, (unsigned long long)need,
                           r->len - r->pos);
    }
    if ((rc = scan_pages_push(out, limits, "pnm", name, &img, err)) != 0 ||
        (rc = scan_image_alloc(img, w, h, limits, "pnm", name, err)) != 0)
        return rc;
    for (uint32_t y = 0; y < h; y++) {
        unsigned char *dst = img->pix + (size_t)y * w;
        if ((rc = scan_row_deadline(y, limits, "pnm", name, err)) != 0)
            return rc;
        if (kind == 4) {
            const unsigned char *row = r->p + r->pos;
            for (uint32_t x = 0; x < w; x++)
                dst[x] = (row[x >> 3] >> (7 - (x & 7))) & 1 ? 0 : 255;
            r->pos += (w + 7) / 8;
            continue;
        }
        for (uint32_t x = 0; x < w; x++) {
            uint32_t s[3];
            for (int c = 0; c < ch; c++) {
                if (plain) {
                    if (read_plain(r, kind == 1, maxval, &s[c]) != 0)
                        return err_set(err, "pnm: %s image %zu: bad or missing sample at row %u, "
                                            "column %u", nm, pageno, y, x);
                } else if (maxval > 255) {
                    s[c] = (uint32_t)r->p[r->pos] << 8 | r->p[r->pos + 1];
                    r->pos += 2;
                } else {
                    s[c] = r->p[r->pos++];
                }
                if (s[c] > maxval)
                    return err_set(err, "pnm: %s image %zu: sample %u over maxval %u at row %u",
                                   nm, pageno, s[c], maxval, y);
            }
            if (kind == 1)
                dst[x] = s[0] ? 0 : 255;
            else if (ch == 1)
                dst[x] = scale(s[0], maxval);
            else
                dst[x] = scan_luma(scale(s[0], maxval), scale(s[1], maxval), scale(s[2], maxval));
        }
    }
    return 0;
}

int scan_decode_pnm(const unsigned char *p, size_t len, const char *name,
                    const struct scan_limits *limits, struct scan_pages *out, struct err *err)
{
    struct pnm_rd r = { p, len, 0 };
    uint64_t total = 0;

    out->format = SCAN_FMT_PNM;
    out->page = NULL;
    out->count = 0;
    do {
        int rc = decode_one(&r, name, limits, &total, out, err);
        if (rc != 0) {
            scan_pages_release(out);
            return rc;
        }
        skip_ws(&r);
    } while (r.pos < r.len);
    return 0;
}

/* Headers only: raw images are skipped by their computed size; a plain
 * image ends the walk (its samples would have to be parsed to find its
 * end) and what follows is bounded by the bytes left. */
int scan_pnm_probe(const unsigned char *p, size_t len, const char *name,
                   const struct scan_limits *limits, uint64_t *pixels, uint64_t *largest,
                   struct err *err)
{
    struct pnm_rd r = { p, len, 0 };
    uint64_t total = 0;
    size_t pages = 0;
    const struct scan_limits deflt = SCAN_LIMITS_DEFAULT;
    const struct scan_limits *l = limits ? limits : &deflt;

    do {
        uint32_t w, h, maxval = 1;
        int kind, rc;
        uint64_t need;
        if (r.len - r.pos < 3 || r.p[r.pos] != 'P' || r.p[r.pos + 1] < '1' || r.p[r.pos + 1] > '6')
            return err_set(err, "pnm: %s image %zu: bad magic number (P1 to P6 expected)",
                           SCAN_NAME(name), pages + 1);
        kind = r.p[r.pos + 1] - '0';
        r.pos += 2;
        if (read_uint(&r, UINT32_MAX, &w) != 0 || read_uint(&r, UINT32_MAX, &h) != 0 ||
            (kind != 1 && kind != 4 && (read_uint(&r, 65535, &maxval) != 0 || maxval == 0)))
            return err_set(err, "pnm: %s image %zu: bad header", SCAN_NAME(name), pages + 1);
        if (++pages > l->max_pages) {
            err_set(err, "pnm: %s has more than %zu pages (refused)", SCAN_NAME(name),
                    l->max_pages);
            return SCAN_E_LIMIT;
        }
        if ((rc = scan_check_dims(w, h, limits, &total, "pnm", name, err)) != 0)
            return rc;
        if ((uint64_t)w * h > *largest)
            *largest = (uint64_t)w * h;
        if (kind <= 3) {
            /* Each further plain sample takes a byte or more: images after
             * this one hold at most what is left of the file. */
            uint64_t rest = r.len - r.pos;
            total = total + rest > l->max_total_pixels ? l->max_total_pixels : total + rest;
            if ((rest > l->max_pixels ? l->max_pixels : rest) > *largest)
                *largest = rest > l->max_pixels ? l->max_pixels : rest;
            break;
        }
        need = kind == 4 ? (uint64_t)((w + 7) / 8) * h
                         : (uint64_t)w * h * (kind == 6 ? 3u : 1u) * (maxval > 255 ? 2u : 1u);
        if (need + 1 > r.len - r.pos)
            break; /* the decoder says how it is truncated */
        r.pos += 1 + (size_t)need;
        skip_ws(&r);
    } while (r.pos < r.len);
    *pixels = total;
    return 0;
}
