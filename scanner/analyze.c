/* civreg scanner: one page's analysis and its JSON form. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "core/encode.h"
#include "core/utf8.h"

int scan_analyze_page(struct scan_reader *rd, const struct scan_image *page, unsigned what,
                      struct scan_page_report *out, struct err *err)
{
    scan_page_report_release(out);
    out->width = page->width;
    out->height = page->height;
    if (what & SCAN_ANALYZE_BARCODES) {
        if (scan_read_barcodes(rd, page, &out->symbols, err) != 0)
            return -1;
        for (size_t i = 0; i < out->symbols.count && !out->is_separator; i++) {
            const struct scan_symbol *s = &out->symbols.sym[i];
            if (scan_separator_parse(s->data, s->len, &out->separator, NULL) == 0)
                out->is_separator = true;
        }
    }
    if (what & SCAN_ANALYZE_QUALITY) {
        if (scan_quality_check(page, &out->quality, err) != 0) {
            scan_page_report_release(out);
            return -1;
        }
        out->has_quality = true;
    }
    return 0;
}

void scan_page_report_release(struct scan_page_report *r)
{
    if (r == NULL)
        return;
    scan_symbols_release(&r->symbols);
    memset(r, 0, sizeof *r);
}

static int add(json_t *obj, const char *key, json_t *v)
{
    return v == NULL || json_object_set_new(obj, key, v) != 0 ? -1 : 0;
}

json_t *scan_page_report_json(const struct scan_page_report *r)
{
    json_t *o = json_object(), *codes = json_array();
    int bad = o == NULL || codes == NULL;

    if (bad) {
        json_decref(o);
        json_decref(codes);
        return NULL;
    }
    bad |= add(o, "width", json_integer(r->width));
    bad |= add(o, "height", json_integer(r->height));
    for (size_t i = 0; i < r->symbols.count; i++) {
        const struct scan_symbol *s = &r->symbols.sym[i];
        json_t *c = json_object();
        if (c == NULL || json_array_append_new(codes, c) != 0) {
            bad = 1;
            break;
        }
        bad |= add(c, "type", json_string(s->type));
        if (utf8_valid((const char *)s->data, s->len) && memchr(s->data, 0, s->len) == NULL) {
            bad |= add(c, "data", json_stringn((const char *)s->data, s->len));
        } else {
            char *b = b64_encode(s->data, s->len);
            bad |= b == NULL || add(c, "data_base64", json_string(b));
            free(b);
        }
        bad |= add(c, "x", json_integer(s->x));
        bad |= add(c, "y", json_integer(s->y));
        bad |= add(c, "width", json_integer(s->width));
        bad |= add(c, "height", json_integer(s->height));
        bad |= add(c, "orientation", json_integer(s->orientation));
        bad |= add(c, "pass", json_string(scan_pass_name(s->pass)));
    }
    bad |= json_object_set_new(o, "barcodes", codes) != 0;
    if (r->is_separator) {
        json_t *sep = json_object();
        bad |= sep == NULL || add(o, "separator", sep);
        if (sep != NULL) {
            bad |= add(sep, "office", json_string(r->separator.office));
            bad |= add(sep, "year", json_integer(r->separator.year));
            bad |= add(sep, "volume", json_string(r->separator.volume));
        }
    } else {
        bad |= add(o, "separator", json_null());
    }
    if (r->has_quality) {
        const struct scan_quality *q = &r->quality;
        json_t *qj = json_object(), *flags = json_array();
        static const char *const names[] = { "low-resolution", "blank", "too-dark",
                                             "too-light", "blurry", "skewed" };
        bad |= qj == NULL || flags == NULL || add(o, "quality", qj);
        if (qj == NULL || flags == NULL) {
            json_decref(flags);
        } else {
            for (unsigned b = 0; b < 6; b++)
                if (q->flags & (1u << b))
                    bad |= json_array_append_new(flags, json_string(names[b])) != 0;
            bad |= add(qj, "flags", flags);
            bad |= add(qj, "dpi", json_integer((json_int_t)lround(q->dpi)));
            bad |= add(qj, "dpi_source",
                       json_string(q->dpi_source == SCAN_DPI_METADATA ? "metadata" : "estimated"));
            bad |= add(qj, "paper", json_integer(q->paper));
            bad |= add(qj, "ink", json_integer(q->ink));
            bad |= add(qj, "ink_ratio_ppm", json_integer((json_int_t)lround(q->ink_ratio * 1e6)));
            bad |= add(qj, "sharpness_milli", json_integer((json_int_t)lround(q->sharpness * 1000)));
            bad |= add(qj, "skew_centidegrees",
                       json_integer((json_int_t)lround(q->skew_degrees * 100)));
        }
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
