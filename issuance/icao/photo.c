/* Image headers of enrolment uploads: JPEG (ITU-T T.81 annex B marker
 * syntax) and PNG (ISO/IEC 15948 IHDR). photo_inspect reads only the
 * headers; the portrait and signature checks then decode the whole image
 * once with the scanner's strict decoders, since libharu and DG2 take the
 * bytes as they are. */
#include "photo.h"

#include <stdint.h>
#include <string.h>

#include "scanner/image.h"

static unsigned be16(const unsigned char *p)
{
    return ((unsigned)p[0] << 8) | p[1];
}

static uint32_t be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* T.81 table B.1: SOF markers are C0-CF except C4 (DHT), C8 (JPG), CC (DAC). */
static int is_sof(unsigned m)
{
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

static int inspect_jpeg(const unsigned char *d, size_t len, struct photo_info *out,
                        struct err *err)
{
    size_t i = 2; /* after SOI */

    for (;;) {
        unsigned m, seglen;

        if (i >= len)
            return err_set(err, "jpeg: truncated before the frame header");
        if (d[i] != 0xFF)
            return err_set(err, "jpeg: expected a marker at byte %zu", i);
        while (i < len && d[i] == 0xFF) /* fill bytes (T.81 B.1.1.2) */
            i++;
        if (i >= len)
            return err_set(err, "jpeg: truncated before the frame header");
        m = d[i++];
        if (m == 0xD8 || m == 0x00)
            return err_set(err, "jpeg: unexpected marker 0x%02X at byte %zu", m, i - 1);
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7))
            continue; /* TEM, RSTn: no length */
        if (m == 0xD9)
            return err_set(err, "jpeg: end of image before the frame header");
        if (m == 0xDA)
            return err_set(err, "jpeg: no frame header before the scan");
        if (len - i < 2)
            return err_set(err, "jpeg: truncated segment length at byte %zu", i);
        seglen = be16(d + i);
        if (seglen < 2 || seglen > len - i)
            return err_set(err, "jpeg: segment 0x%02X at byte %zu runs past the end", m, i - 2);
        if (is_sof(m)) {
            const unsigned char *s = d + i + 2;
            unsigned nc;
            if (seglen < 8)
                return err_set(err, "jpeg: frame header too short");
            nc = s[5];
            if (seglen != 8 + 3 * nc)
                return err_set(err, "jpeg: frame header length %u does not match %u components",
                               seglen, nc);
            out->type = PHOTO_JPEG;
            out->height = be16(s + 1);
            out->width = be16(s + 3);
            out->components = nc;
            out->progressive = (m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE);
            if (m != 0xC0 && m != 0xC1 && m != 0xC2)
                return err_set(err, "jpeg: unsupported coding process (SOF%u): use baseline or "
                                    "progressive Huffman JPEG", m - 0xC0);
            if (s[0] != 8)
                return err_set(err, "jpeg: %u-bit samples, only 8-bit supported", s[0]);
            if (out->width == 0 || out->height == 0)
                return err_set(err, "jpeg: image size %ux%u (height in a DNL segment is not "
                                    "supported)", out->width, out->height);
            if (nc != 1 && nc != 3 && nc != 4)
                return err_set(err, "jpeg: %u colour components", nc);
            return 0;
        }
        i += seglen;
    }
}

static int inspect_png(const unsigned char *d, size_t len, struct photo_info *out,
                       struct err *err)
{
    static const unsigned channels[7] = { 1, 0, 3, 1, 2, 0, 4 };
    const unsigned char *h;
    unsigned depth, ctype;

    /* signature (8) + length (4) + "IHDR" (4) + 13 data bytes + CRC (4) */
    if (len < 33)
        return err_set(err, "png: truncated header");
    if (be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4) != 0)
        return err_set(err, "png: first chunk is not a 13-byte IHDR");
    h = d + 16;
    out->type = PHOTO_PNG;
    if (be32(h) > 0x7fffffffu || be32(h + 4) > 0x7fffffffu)
        return err_set(err, "png: image size out of range");
    out->width = be32(h);
    out->height = be32(h + 4);
    depth = h[8];
    ctype = h[9];
    out->progressive = h[12] != 0;
    if (out->width == 0 || out->height == 0)
        return err_set(err, "png: image size %ux%u", out->width, out->height);
    if (ctype > 6 || channels[ctype] == 0)
        return err_set(err, "png: invalid colour type %u", ctype);
    if (depth != 1 && depth != 2 && depth != 4 && depth != 8 && depth != 16)
        return err_set(err, "png: invalid bit depth %u", depth);
    if (h[10] != 0 || h[11] != 0 || h[12] > 1)
        return err_set(err, "png: invalid compression, filter or interlace method");
    out->components = channels[ctype];
    return 0;
}

int photo_inspect(const unsigned char *data, size_t len, struct photo_info *out, struct err *err)
{
    static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };

    memset(out, 0, sizeof *out);
    if (data == NULL || len == 0)
        return err_set(err, "image: empty");
    if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        return inspect_jpeg(data, len, out, err);
    if (len >= 8 && memcmp(data, png_sig, 8) == 0)
        return inspect_png(data, len, out, err);
    return err_set(err, "image: neither JPEG nor PNG");
}

/* The whole image must decode without a warning: libjpeg pads a truncated
 * or corrupt stream with grey and only warns, so a photo cut short would be
 * printed on the data page and signed into DG2 half blank. */
int photo_check_decodes(const unsigned char *data, size_t len, const char *what,
                        struct err *err)
{
    struct scan_limits lim = SCAN_LIMITS_DEFAULT;
    struct scan_pages pages = SCAN_PAGES_INIT;

    lim.max_width = lim.max_height = PHOTO_MAX_SIDE;
    lim.max_pixels = lim.max_total_pixels = (uint64_t)PHOTO_MAX_SIDE * PHOTO_MAX_SIDE;
    lim.max_pages = 1;
    if (scan_decode(data, len, what, &lim, &pages, err) != 0)
        return err_prefix(err, "%s: the image does not decode cleanly (truncated or corrupt)",
                          what);
    scan_pages_release(&pages);
    return 0;
}

int photo_check_portrait(const unsigned char *data, size_t len, struct photo_info *out,
                         struct err *err)
{
    struct photo_info info;
    double aspect, want = 35.0 / 45.0;

    if (len > PHOTO_MAX_BYTES)
        return err_set(err, "photo: %zu bytes, at most %zu allowed", len, PHOTO_MAX_BYTES);
    if (photo_inspect(data, len, &info, err) != 0)
        return err_prefix(err, "photo");
    if (out)
        *out = info;
    if (info.type != PHOTO_JPEG)
        return err_set(err, "photo: must be a JPEG image (got PNG)");
    if (info.components == 4)
        return err_set(err, "photo: CMYK JPEG not accepted, use RGB or grayscale");
    if (info.width < PHOTO_MIN_WIDTH || info.height < PHOTO_MIN_HEIGHT)
        return err_set(err, "photo: %ux%u pixels, at least %ux%u needed", info.width,
                       info.height, PHOTO_MIN_WIDTH, PHOTO_MIN_HEIGHT);
    if (info.width > PHOTO_MAX_SIDE || info.height > PHOTO_MAX_SIDE)
        return err_set(err, "photo: %ux%u pixels, at most %u on a side", info.width,
                       info.height, PHOTO_MAX_SIDE);
    aspect = (double)info.width / (double)info.height;
    if (aspect < want * (1.0 - PHOTO_ASPECT_TOLERANCE) ||
        aspect > want * (1.0 + PHOTO_ASPECT_TOLERANCE))
        return err_set(err, "photo: aspect ratio %ux%u = %.3f, expected 35:45 = %.3f (within "
                            "%.0f%%)", info.width, info.height, aspect, want,
                       PHOTO_ASPECT_TOLERANCE * 100.0);
    return photo_check_decodes(data, len, "photo", err);
}

int photo_check_signature(const unsigned char *data, size_t len, struct photo_info *out,
                          struct err *err)
{
    struct photo_info info;

    if (len > SIGNATURE_MAX_BYTES)
        return err_set(err, "signature: %zu bytes, at most %zu allowed", len,
                       SIGNATURE_MAX_BYTES);
    if (photo_inspect(data, len, &info, err) != 0)
        return err_prefix(err, "signature");
    if (out)
        *out = info;
    if (info.type == PHOTO_JPEG && info.components == 4)
        return err_set(err, "signature: CMYK JPEG not accepted");
    if (info.width < 100 || info.height < 20)
        return err_set(err, "signature: %ux%u pixels, at least 100x20 needed", info.width,
                       info.height);
    if (info.width > PHOTO_MAX_SIDE || info.height > PHOTO_MAX_SIDE)
        return err_set(err, "signature: %ux%u pixels, at most %u on a side", info.width,
                       info.height, PHOTO_MAX_SIDE);
    if (info.width <= info.height)
        return err_set(err, "signature: %ux%u pixels, expected wider than tall", info.width,
                       info.height);
    return photo_check_decodes(data, len, "signature", err);
}

const char *photo_media_type(enum photo_type t)
{
    return t == PHOTO_PNG ? "image/png" : "image/jpeg";
}
