/* civreg scanner: grayscale PNG encoding (page previews for the viewer). */
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "png_common.h"
#include "scanner_int.h"

struct png_out {
    struct buf b;
    int failed;
};

static void png_write_cb(png_structp png, png_bytep data, size_t n)
{
    struct png_out *o = png_get_io_ptr(png);

    if (o->failed || buf_append(&o->b, data, n) != 0) {
        o->failed = 1;
        png_error(png, "out of memory");
    }
}

static void png_flush_cb(png_structp png)
{
    (void)png;
}

static void png_enc_error(png_structp png, png_const_charp msg)
{
    (void)msg;
    png_longjmp(png, 1);
}

static void png_enc_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

int scan_image_encode_png(const struct scan_image *img, unsigned char **out, size_t *len,
                          struct err *err)
{
    struct png_out o = { BUF_INIT((size_t)1 << 30), 0 };
    png_structp png = NULL;
    png_infop info = NULL;
    volatile int rc = -1;

    *out = NULL;
    *len = 0;
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_enc_error, png_enc_warning);
    if (scan_png_info(png, &info, err) != 0)
        goto out;
    if (setjmp(png_jmpbuf(png))) {
        err_set(err, "png: cannot encode a %u x %u image%s", img->width, img->height,
                o.failed ? " (out of memory)" : "");
        goto out;
    }
    png_set_write_fn(png, &o, png_write_cb, png_flush_cb);
    png_set_IHDR(png, info, img->width, img->height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (img->dpi_x > 0 && img->dpi_y > 0)
        png_set_pHYs(png, info, (png_uint_32)(img->dpi_x / 0.0254 + 0.5),
                     (png_uint_32)(img->dpi_y / 0.0254 + 0.5), PNG_RESOLUTION_METER);
    png_write_info(png, info);
    for (uint32_t y = 0; y < img->height; y++)
        png_write_row(png, img->pix + (size_t)y * img->width);
    png_write_end(png, NULL);
    *out = buf_detach(&o.b, len);
    if (*out == NULL) {
        err_set(err, "png: out of memory");
        goto out;
    }
    rc = 0;
out:
    png_destroy_write_struct(&png, info ? &info : NULL);
    buf_release(&o.b);
    return rc;
}
