#include "lds.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "tlv.h"

/* Doc 9303-10 §4.6.1, table of LDS1 elementary files */
static const struct lds_dg_desc dg_table[] = {
    { 0, 0x60, "011E", "EF.COM" },  { 1, 0x61, "0101", "DG1" },   { 2, 0x75, "0102", "DG2" },
    { 3, 0x63, "0103", "DG3" },     { 4, 0x76, "0104", "DG4" },   { 5, 0x65, "0105", "DG5" },
    { 6, 0x66, "0106", "DG6" },     { 7, 0x67, "0107", "DG7" },   { 8, 0x68, "0108", "DG8" },
    { 9, 0x69, "0109", "DG9" },     { 10, 0x6A, "010A", "DG10" }, { 11, 0x6B, "010B", "DG11" },
    { 12, 0x6C, "010C", "DG12" },   { 13, 0x6D, "010D", "DG13" }, { 14, 0x6E, "010E", "DG14" },
    { 15, 0x6F, "010F", "DG15" },   { 16, 0x70, "0110", "DG16" }, { -1, 0x77, "011D", "EF.SOD" },
};

const struct lds_dg_desc *lds_dg_by_number(int n)
{
    for (size_t i = 0; i < sizeof dg_table / sizeof dg_table[0]; i++)
        if (dg_table[i].number == n)
            return &dg_table[i];
    return NULL;
}

const struct lds_dg_desc *lds_dg_by_fid(const char *fid)
{
    for (size_t i = 0; fid && i < sizeof dg_table / sizeof dg_table[0]; i++)
        if (strlen(fid) == 4 && strncasecmp(dg_table[i].fid, fid, 4) == 0)
            return &dg_table[i];
    return NULL;
}

int lds_mrz_normalize(const char *text, size_t len, char out[LDS_MRZ_MAX + 1], size_t *outlen,
                      struct err *err)
{
    size_t n = 0, lines = 0, linelen = 0, first = 0;

    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\r')
            continue;
        if (c == '\n') {
            if (linelen == 0) /* blank line: only allowed at the very end */
                continue;
            if (lines == 0)
                first = linelen;
            else if (linelen != first)
                return err_set(err, "mrz: line %zu has %zu characters, line 1 has %zu",
                               lines + 1, linelen, first);
            lines++;
            linelen = 0;
            continue;
        }
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '<'))
            return err_set(err, "mrz: character 0x%02X at line %zu column %zu is not A-Z, 0-9 or <",
                           (unsigned char)c, lines + 1, linelen + 1);
        if (n >= LDS_MRZ_MAX)
            return err_set(err, "mrz: more than %d characters", LDS_MRZ_MAX);
        out[n++] = c;
        linelen++;
    }
    if (linelen) {
        if (lines > 0 && linelen != first)
            return err_set(err, "mrz: line %zu has %zu characters, line 1 has %zu", lines + 1,
                           linelen, first);
        if (lines == 0)
            first = linelen;
        lines++;
    }
    out[n] = '\0';
    /* Doc 9303-5/-6/-4: TD1 3x30, TD2 2x36, TD3 2x44 (MRV-A 2x44, MRV-B 2x36) */
    if (!((lines == 3 && first == 30) || (lines == 2 && first == 36) ||
          (lines == 2 && first == 44) || (lines == 1 && (n == 90 || n == 72 || n == 88))))
        return err_set(err, "mrz: %zu line(s) of %zu characters is not TD1 (3x30), TD2 (2x36) or "
                            "TD3 (2x44)", lines, first);
    *outlen = n;
    return 0;
}

int lds_dg1_encode(const char *mrz, size_t len, struct buf *out, struct err *err)
{
    char norm[LDS_MRZ_MAX + 1];
    size_t n = 0, from = out->len;

    if (lds_mrz_normalize(mrz, len, norm, &n, err) != 0)
        return err_prefix(err, "dg1");
    if (tlv_put(out, 0x5F1F, norm, n, err) != 0 || tlv_wrap(out, from, 0x61, err) != 0)
        return err_prefix(err, "dg1");
    return 0;
}

int lds_dg1_mrz(const unsigned char *dg1, size_t len, char out[LDS_MRZ_MAX + 1], size_t *outlen,
                struct err *err)
{
    struct tlv t, m;
    char tmp[LDS_MRZ_MAX + 1];

    if (tlv_decode_whole(dg1, len, &t, err) != 0)
        return err_prefix(err, "dg1");
    if (t.tag != 0x61)
        return err_set(err, "dg1: outer tag is %X, expected 61", t.tag);
    if (tlv_decode_whole(t.value, t.len, &m, err) != 0)
        return err_prefix(err, "dg1");
    if (m.tag != 0x5F1F)
        return err_set(err, "dg1: holds tag %X, expected 5F1F (MRZ)", m.tag);
    if (m.len > LDS_MRZ_MAX)
        return err_set(err, "dg1: MRZ of %zu characters is too long", m.len);
    memcpy(tmp, m.value, m.len);
    if (lds_mrz_normalize(tmp, m.len, out, outlen, err) != 0)
        return err_prefix(err, "dg1");
    return 0;
}

int lds_com_encode(const unsigned *tags, size_t ntags, const char *lds_version,
                   struct buf *out, struct err *err)
{
    unsigned char list[32];
    size_t from = out->len;

    if (ntags > sizeof list)
        return err_set(err, "ef.com: too many data groups");
    for (size_t i = 0; i < ntags; i++) {
        if (tags[i] > 0xFF)
            return err_set(err, "ef.com: tag %X is not a one-byte data group tag", tags[i]);
        list[i] = (unsigned char)tags[i];
    }
    /* Doc 9303-10 §4.6.1: LDS version "aabb", Unicode version "aabbcc" */
    if (strlen(lds_version) != 4)
        return err_set(err, "ef.com: LDS version '%s' must be 4 digits", lds_version);
    if (tlv_put(out, 0x5F01, lds_version, 4, err) != 0 ||
        tlv_put(out, 0x5F36, "040000", 6, err) != 0 || tlv_put(out, 0x5C, list, ntags, err) != 0 ||
        tlv_wrap(out, from, 0x60, err) != 0)
        return err_prefix(err, "ef.com");
    return 0;
}

int lds_jpeg_info(const unsigned char *p, size_t len, unsigned *width, unsigned *height,
                  unsigned *components, struct err *err)
{
    size_t i = 2;

    if (len < 4 || p[0] != 0xFF || p[1] != 0xD8)
        return err_set(err, "jpeg: not a JPEG file (no SOI marker)");
    while (i + 4 <= len) {
        unsigned marker, seglen;
        if (p[i] != 0xFF)
            return err_set(err, "jpeg: expected a marker at offset %zu", i);
        marker = p[i + 1];
        if (marker == 0xFF) { /* fill byte */
            i++;
            continue;
        }
        if (marker == 0xD9 || marker == 0xDA)
            break;
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
            i += 2;
            continue;
        }
        seglen = ((unsigned)p[i + 2] << 8) | p[i + 3];
        if (seglen < 2 || i + 2 + seglen > len)
            return err_set(err, "jpeg: truncated segment at offset %zu", i);
        /* SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC) */
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
            marker != 0xCC) {
            if (seglen < 8)
                return err_set(err, "jpeg: SOF segment too short");
            *height = ((unsigned)p[i + 5] << 8) | p[i + 6];
            *width = ((unsigned)p[i + 7] << 8) | p[i + 8];
            *components = p[i + 9];
            if (*width == 0 || *height == 0)
                return err_set(err, "jpeg: zero width or height");
            if (*components != 1 && *components != 3)
                return err_set(err, "jpeg: %u colour components (expected 1 or 3)", *components);
            return 0;
        }
        i += 2 + seglen;
    }
    return err_set(err, "jpeg: no SOF marker (image size unknown)");
}

static void put_be(unsigned char *p, unsigned long v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        p[k] = (unsigned char)(v >> (8 * (n - 1 - k)));
}

static unsigned char bcd(int v)
{
    return (unsigned char)(((v / 10) % 10) << 4 | (v % 10));
}

/* Doc 9303-10 table 36: creation date as 7 BCD bytes YYYYMMDDhhmmss */
static void bcd_datetime(time_t t, unsigned char out[7])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    int y = tm.tm_year + 1900;
    out[0] = bcd(y / 100);
    out[1] = bcd(y % 100);
    out[2] = bcd(tm.tm_mon + 1);
    out[3] = bcd(tm.tm_mday);
    out[4] = bcd(tm.tm_hour);
    out[5] = bcd(tm.tm_min);
    out[6] = bcd(tm.tm_sec);
}

int lds_dg2_encode(const struct lds_face *face, struct buf *out, struct err *err)
{
    unsigned w = 0, h = 0, comps = 0;
    unsigned char gh[14], fh[20], ii[12], dt[7], vp[8];
    size_t from = out->len, start, total;
    static const unsigned char ver[2] = { 0x01, 0x01 }, type[1] = { 0x02 }, sub[1] = { 0x00 },
                               owner[2] = { 0x01, 0x01 }, ftype[2] = { 0x00, 0x08 },
                               creator[2] = { 0x00, 0x00 }, one = 0x01;

    if (lds_jpeg_info(face->jpeg, face->jpeg_len, &w, &h, &comps, err) != 0)
        return err_prefix(err, "dg2: photo");
    if (face->jpeg_len > LDS_MAX_EF_BYTES - 256)
        return err_set(err, "dg2: photo of %zu bytes is too large", face->jpeg_len);
    /* ISO/IEC 19794-5:2005 §5.4 general header: "FAC\0" "010\0" length count */
    total = sizeof gh + sizeof fh + sizeof ii + face->jpeg_len;
    memcpy(gh, "FAC\0" "010\0", 8);
    put_be(gh + 8, total, 4);
    put_be(gh + 12, 1, 2);
    /* §5.5 facial information: block length, 0 feature points, gender,
     * eye/hair colour unspecified, no feature mask, neutral expression
     * unspecified, pose angles and uncertainties 0 (unspecified) */
    memset(fh, 0, sizeof fh);
    put_be(fh, sizeof fh + sizeof ii + face->jpeg_len, 4);
    fh[6] = face->sex == 'M' ? 1 : face->sex == 'F' ? 2 : 0;
    /* §5.7 image information: full frontal (1), JPEG (0), size, colour space
     * 24-bit RGB (1) or greyscale (3), source: digital still camera (2) */
    memset(ii, 0, sizeof ii);
    ii[0] = 0x01;
    ii[1] = 0x00;
    put_be(ii + 2, w, 2);
    put_be(ii + 4, h, 2);
    ii[6] = comps == 3 ? 0x01 : 0x03;
    ii[7] = 0x02;

    /* CBEFF biometric header template (Doc 9303-10 §4.7.2.1, ISO/IEC 7816-11) */
    start = out->len;
    if (tlv_put(out, 0x80, ver, 2, err) != 0 || tlv_put(out, 0x81, type, 1, err) != 0 ||
        tlv_put(out, 0x82, sub, 1, err) != 0)
        return err_prefix(err, "dg2");
    bcd_datetime(face->created, dt);
    if (tlv_put(out, 0x83, dt, 7, err) != 0)
        return err_prefix(err, "dg2");
    if (face->valid_until) {
        unsigned char a[7], b[7];
        bcd_datetime(face->created, a);
        bcd_datetime(face->valid_until, b);
        memcpy(vp, a, 4);
        memcpy(vp + 4, b, 4);
        if (tlv_put(out, 0x85, vp, 8, err) != 0)
            return err_prefix(err, "dg2");
    }
    if (tlv_put(out, 0x86, creator, 2, err) != 0 || tlv_put(out, 0x87, owner, 2, err) != 0 ||
        tlv_put(out, 0x88, ftype, 2, err) != 0 || tlv_wrap(out, start, 0xA1, err) != 0)
        return err_prefix(err, "dg2");
    start = out->len;
    if (buf_append(out, gh, sizeof gh) != 0 || buf_append(out, fh, sizeof fh) != 0 ||
        buf_append(out, ii, sizeof ii) != 0 ||
        buf_append(out, face->jpeg, face->jpeg_len) != 0)
        return err_set(err, "dg2: out of memory");
    if (tlv_wrap(out, start, 0x5F2E, err) != 0)
        return err_prefix(err, "dg2");
    /* 7F60 biometric information template around header + data block */
    if (tlv_wrap(out, from, 0x7F60, err) != 0)
        return err_prefix(err, "dg2");
    {
        /* 7F61 group template: 02 01 <count> then the 7F60 instances */
        struct buf cnt = BUF_INIT(16);
        size_t inst_len = out->len - from;
        if (tlv_put(&cnt, 0x02, &one, 1, err) != 0) {
            buf_release(&cnt);
            return err_prefix(err, "dg2");
        }
        if (buf_append(out, cnt.data, cnt.len) != 0) {
            buf_release(&cnt);
            return err_set(err, "dg2: out of memory");
        }
        memmove(out->data + from + cnt.len, out->data + from, inst_len);
        memcpy(out->data + from, cnt.data, cnt.len);
        buf_release(&cnt);
    }
    if (tlv_wrap(out, from, 0x7F61, err) != 0 || tlv_wrap(out, from, 0x75, err) != 0)
        return err_prefix(err, "dg2");
    return 0;
}

/* A text field: UTF-8, NFC, no control characters, at most MAX bytes. */
static int put_text(const json_t *obj, const char *key, unsigned tag, size_t max,
                    struct buf *out, unsigned *tags, size_t *ntags, const char *ctx,
                    struct err *err)
{
    const char *s = NULL;
    char *nfc = NULL;
    size_t n = 0;
    int rc = -1;

    if (json_get_string(obj, key, false, &s, err) != 0)
        return err_prefix(err, "%s", ctx);
    if (s == NULL)
        return 0;
    if (utf8_normalize(s, strlen(s), UTF8_NFC, &nfc, &n, err) != 0) {
        err_prefix(err, "%s: %s", ctx, key);
        goto out;
    }
    if (n == 0 || n > max) {
        err_set(err, "%s: %s must be 1 to %zu bytes", ctx, key, max);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)nfc[i] < 0x20 || nfc[i] == 0x7F) {
            err_set(err, "%s: %s contains a control character", ctx, key);
            goto out;
        }
    if (tlv_put(out, tag, nfc, n, err) != 0) {
        err_prefix(err, "%s", ctx);
        goto out;
    }
    tags[(*ntags)++] = tag;
    rc = 0;
out:
    free(nfc);
    return rc;
}

static int put_date(const json_t *obj, const char *key, unsigned tag, struct buf *out,
                    unsigned *tags, size_t *ntags, const char *ctx, struct err *err)
{
    const char *s = NULL;
    int y, m, d;
    char ymd[32];

    if (json_get_string(obj, key, false, &s, err) != 0)
        return err_prefix(err, "%s", ctx);
    if (s == NULL)
        return 0;
    if (date_parse(s, &y, &m, &d, err) != 0)
        return err_prefix(err, "%s: %s", ctx, key);
    /* cannot truncate: a range-checked date: 8 digits */
    (void)snprintf(ymd, sizeof ymd, "%04d%02d%02d", y, m, d);
    if (tlv_put(out, tag, ymd, 8, err) != 0)
        return err_prefix(err, "%s", ctx);
    tags[(*ntags)++] = tag;
    return 0;
}

/* Prepend the 5C tag list to the fields written from FROM. */
static int finish_with_taglist(struct buf *out, size_t from, const unsigned *tags, size_t ntags,
                               unsigned outer, const char *ctx, struct err *err)
{
    unsigned char list[64];
    size_t n = 0, flen = out->len - from;
    struct buf tl = BUF_INIT(128);

    for (size_t i = 0; i < ntags; i++) {
        if (tags[i] > 0xFF)
            list[n++] = (unsigned char)(tags[i] >> 8);
        list[n++] = (unsigned char)tags[i];
    }
    if (tlv_put(&tl, 0x5C, list, n, err) != 0 || buf_append(out, tl.data, tl.len) != 0) {
        buf_release(&tl);
        return err_set(err, "%s: out of memory", ctx);
    }
    memmove(out->data + from + tl.len, out->data + from, flen);
    memcpy(out->data + from, tl.data, tl.len);
    buf_release(&tl);
    if (tlv_wrap(out, from, outer, err) != 0)
        return err_prefix(err, "%s", ctx);
    return 0;
}

int lds_dg11_encode(const json_t *obj, struct buf *out, struct err *err)
{
    static const char *const keys[] = { "full_name", "other_names", "personal_number",
                                        "date_of_birth", "place_of_birth", "address",
                                        "telephone", "profession", "title", "personal_summary",
                                        "other_td_numbers", "custody_information", NULL };
    unsigned tags[16];
    size_t ntags = 0, from = out->len;
    const json_t *others;

    if (!json_is_object(obj))
        return err_set(err, "dg11: input must be a JSON object");
    if (json_check_keys(obj, keys, err) != 0)
        return err_prefix(err, "dg11");
    /* Doc 9303-10 §4.7.11: full name in national characters, '<<' between
     * primary and secondary identifiers as in the MRZ */
    if (put_text(obj, "full_name", 0x5F0E, 255, out, tags, &ntags, "dg11", err) != 0)
        return -1;
    others = json_object_get(obj, "other_names");
    if (others) {
        size_t start = out->len, i;
        json_t *v;
        if (!json_is_array(others) || json_array_size(others) == 0 ||
            json_array_size(others) > 16)
            return err_set(err, "dg11: other_names must be an array of 1 to 16 names");
        if (tlv_put_uint(out, (unsigned long)json_array_size(others), err) != 0)
            return err_prefix(err, "dg11");
        json_array_foreach(others, i, v) {
            json_t *wrap = json_pack("{sO}", "n", v);
            unsigned dummy[1];
            size_t dn = 0;
            int r;
            if (wrap == NULL || !json_is_string(v)) {
                json_decref(wrap);
                return err_set(err, "dg11: other_names[%zu] must be a string", i);
            }
            r = put_text(wrap, "n", 0x0F, 255, out, dummy, &dn, "dg11: other_names", err);
            json_decref(wrap);
            if (r != 0)
                return -1;
        }
        if (tlv_wrap(out, start, 0xA0, err) != 0)
            return err_prefix(err, "dg11");
        tags[ntags++] = 0x5F0F;
    }
    if (put_text(obj, "personal_number", 0x5F10, 99, out, tags, &ntags, "dg11", err) != 0 ||
        put_date(obj, "date_of_birth", 0x5F2B, out, tags, &ntags, "dg11", err) != 0 ||
        put_text(obj, "place_of_birth", 0x5F11, 255, out, tags, &ntags, "dg11", err) != 0 ||
        put_text(obj, "address", 0x5F42, 255, out, tags, &ntags, "dg11", err) != 0 ||
        put_text(obj, "telephone", 0x5F12, 99, out, tags, &ntags, "dg11", err) != 0 ||
        put_text(obj, "profession", 0x5F13, 255, out, tags, &ntags, "dg11", err) != 0 ||
        put_text(obj, "title", 0x5F14, 255, out, tags, &ntags, "dg11", err) != 0 ||
        put_text(obj, "personal_summary", 0x5F15, 1000, out, tags, &ntags, "dg11", err) != 0 ||
        put_text(obj, "other_td_numbers", 0x5F17, 255, out, tags, &ntags, "dg11", err) != 0 ||
        put_text(obj, "custody_information", 0x5F18, 1000, out, tags, &ntags, "dg11", err) != 0)
        return -1;
    if (ntags == 0)
        return err_set(err, "dg11: no field given (full_name, place_of_birth, ...)");
    return finish_with_taglist(out, from, tags, ntags, 0x6B, "dg11", err);
}

int lds_dg12_encode(const json_t *obj, struct buf *out, struct err *err)
{
    static const char *const keys[] = { "issuing_authority", "date_of_issue", "endorsements",
                                        "tax_exit_requirements", "personalization_time",
                                        "personalization_device", NULL };
    unsigned tags[16];
    size_t ntags = 0, from = out->len;
    const char *pt = NULL;

    if (!json_is_object(obj))
        return err_set(err, "dg12: input must be a JSON object");
    if (json_check_keys(obj, keys, err) != 0)
        return err_prefix(err, "dg12");
    /* Doc 9303-10 §4.7.12 */
    if (put_text(obj, "issuing_authority", 0x5F19, 255, out, tags, &ntags, "dg12", err) != 0 ||
        put_date(obj, "date_of_issue", 0x5F26, out, tags, &ntags, "dg12", err) != 0 ||
        put_text(obj, "endorsements", 0x5F1B, 1000, out, tags, &ntags, "dg12", err) != 0 ||
        put_text(obj, "tax_exit_requirements", 0x5F1C, 1000, out, tags, &ntags, "dg12", err) != 0)
        return -1;
    if (json_get_string(obj, "personalization_time", false, &pt, err) != 0)
        return err_prefix(err, "dg12");
    if (pt) {
        time_t t;
        struct tm tm;
        char s[64];
        if (time_parse_iso8601(pt, &t, err) != 0)
            return err_prefix(err, "dg12: personalization_time");
        gmtime_r(&t, &tm);
        /* cannot truncate: a gmtime_r date: 14 digits */
        (void)snprintf(s, sizeof s, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        if (tlv_put(out, 0x5F55, s, 14, err) != 0)
            return err_prefix(err, "dg12");
        tags[ntags++] = 0x5F55;
    }
    if (put_text(obj, "personalization_device", 0x5F56, 99, out, tags, &ntags, "dg12", err) != 0)
        return -1;
    if (ntags == 0)
        return err_set(err, "dg12: no field given (issuing_authority, date_of_issue, ...)");
    return finish_with_taglist(out, from, tags, ntags, 0x6C, "dg12", err);
}

int lds_dg15_encode(const unsigned char *spki, size_t len, struct buf *out, struct err *err)
{
    if (tlv_put(out, 0x6F, spki, len, err) != 0)
        return err_prefix(err, "dg15");
    return 0;
}

/* ---- DG14 (Doc 9303-11 §6.2, §9.2.5) */
const unsigned char lds_oid_ca_ecdh_aes128[LDS_OID_CA_ECDH_AES128_LEN] = {
    0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02, 0x02
};
const unsigned char lds_oid_pk_ecdh[LDS_OID_PK_ECDH_LEN] = {
    0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x01, 0x02
};
static const unsigned char oid_ca_prefix[8] = { 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03 };
static const unsigned char oid_ec_public_key[7] = { 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01 };
static const unsigned char oid_p256[8] = { 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07 };
static const unsigned char oid_bp256r1[9] = { 0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07 };

static bool oid_is(const struct tlv *t, const unsigned char *oid, size_t len)
{
    return t->tag == 0x06 && t->len == len && memcmp(t->value, oid, len) == 0;
}

int lds_dg14_encode(int param_id, const unsigned char *point, size_t point_len,
                    struct buf *out, struct err *err)
{
    size_t from = out->len, info, spki, alg;
    const unsigned char *curve = param_id == 12 ? oid_p256 : oid_bp256r1;
    size_t curve_len = param_id == 12 ? sizeof oid_p256 : sizeof oid_bp256r1;

    if (param_id != 12 && param_id != 13)
        return err_set(err, "dg14: curve %d is not supported (12 P-256, 13 brainpoolP256r1)",
                       param_id);
    if (point_len != 65 || point[0] != 0x04)
        return err_set(err, "dg14: the public key is not an uncompressed 256-bit point");
    info = out->len;
    if (tlv_put(out, 0x06, lds_oid_ca_ecdh_aes128, sizeof lds_oid_ca_ecdh_aes128, err) != 0 ||
        tlv_put_uint(out, 1, err) != 0 || tlv_wrap(out, info, 0x30, err) != 0)
        goto fail;
    info = out->len;
    if (tlv_put(out, 0x06, lds_oid_pk_ecdh, sizeof lds_oid_pk_ecdh, err) != 0)
        goto fail;
    spki = out->len;
    alg = out->len;
    if (tlv_put(out, 0x06, lds_oid_pk_ecdh, sizeof lds_oid_pk_ecdh, err) != 0 ||
        tlv_put(out, 0x06, curve, curve_len, err) != 0 || tlv_wrap(out, alg, 0x30, err) != 0)
        goto fail;
    {
        unsigned char bits[66];
        bits[0] = 0; /* no unused bits */
        memcpy(bits + 1, point, 65);
        if (tlv_put(out, 0x03, bits, sizeof bits, err) != 0)
            goto fail;
    }
    if (tlv_wrap(out, spki, 0x30, err) != 0 || tlv_wrap(out, info, 0x30, err) != 0 ||
        tlv_wrap(out, from, 0x31, err) != 0 || tlv_wrap(out, from, 0x6E, err) != 0)
        goto fail;
    return 0;
fail:
    out->len = from;
    return err_prefix(err, "dg14");
}

/* SubjectPublicKeyInfo of id-PK-ECDH (or id-ecPublicKey) on a named curve. */
static int dg14_spki(const struct tlv *spki, struct lds_dg14 *out, struct err *err)
{
    struct tlv_iter it, ai;
    struct tlv alg, bits, aoid, params;

    tlv_iter_init(&it, spki->value, spki->len);
    if (spki->tag != 0x30 || tlv_iter_next(&it, &alg, err) != 1 || alg.tag != 0x30 ||
        tlv_iter_next(&it, &bits, err) != 1 || bits.tag != 0x03)
        return err_set(err, "dg14: the Chip Authentication key is not a SubjectPublicKeyInfo");
    tlv_iter_init(&ai, alg.value, alg.len);
    if (tlv_iter_next(&ai, &aoid, err) != 1 ||
        !(oid_is(&aoid, lds_oid_pk_ecdh, sizeof lds_oid_pk_ecdh) ||
          oid_is(&aoid, oid_ec_public_key, sizeof oid_ec_public_key)))
        return err_set(err, "dg14: the Chip Authentication key is not an ECDH key (only ECDH "
                            "is supported)");
    if (tlv_iter_next(&ai, &params, err) != 1)
        return err_set(err, "dg14: the ECDH key has no domain parameters");
    if (oid_is(&params, oid_p256, sizeof oid_p256))
        out->param_id = 12;
    else if (oid_is(&params, oid_bp256r1, sizeof oid_bp256r1))
        out->param_id = 13;
    else
        return err_set(err, "dg14: the ECDH key's domain parameters are not a supported named "
                            "curve (NIST P-256, brainpoolP256r1)");
    if (bits.len != 66 || bits.value[0] != 0 || bits.value[1] != 0x04)
        return err_set(err, "dg14: the ECDH public key is not an uncompressed 256-bit point");
    out->point = bits.value + 1;
    out->point_len = 65;
    return 0;
}

int lds_dg14_parse(const unsigned char *dg14, size_t len, struct lds_dg14 *out, struct err *err)
{
    struct tlv top, set, info;
    struct tlv_iter it;
    int r;

    memset(out, 0, sizeof *out);
    if (tlv_decode_whole(dg14, len, &top, err) != 0 || top.tag != 0x6E ||
        tlv_decode_whole(top.value, top.len, &set, err) != 0 || set.tag != 0x31)
        return err_set(err, "dg14: not a 6E template holding a SET of SecurityInfos");
    tlv_iter_init(&it, set.value, set.len);
    while ((r = tlv_iter_next(&it, &info, err)) == 1) {
        struct tlv_iter f;
        struct tlv oid, second;
        if (info.tag != 0x30)
            return err_set(err, "dg14: a SecurityInfo is not a SEQUENCE");
        tlv_iter_init(&f, info.value, info.len);
        if (tlv_iter_next(&f, &oid, err) != 1 || oid.tag != 0x06 ||
            tlv_iter_next(&f, &second, err) != 1)
            return err_set(err, "dg14: a SecurityInfo has no protocol and data");
        if (oid_is(&oid, lds_oid_ca_ecdh_aes128, sizeof lds_oid_ca_ecdh_aes128)) {
            unsigned long v;
            if (second.tag != 0x02 || tlv_get_uint(&second, &v, err) != 0 || v != 1)
                return err_set(err, "dg14: ChipAuthenticationInfo version is not 1");
            out->ca_aes128 = true;
        } else if (oid.len > sizeof oid_ca_prefix &&
                   memcmp(oid.value, oid_ca_prefix, sizeof oid_ca_prefix) == 0) {
            out->ca_other = true;
        } else if (oid_is(&oid, lds_oid_pk_ecdh, sizeof lds_oid_pk_ecdh) && out->point == NULL) {
            if (dg14_spki(&second, out, err) != 0)
                return -1;
        }
    }
    if (r < 0)
        return err_prefix(err, "dg14");
    if (out->point == NULL)
        return err_set(err, "dg14: no ChipAuthenticationPublicKeyInfo with an ECDH key");
    return 0;
}
