/* civreg scanner: what the PNG decoder and encoder share of libpng. */
#include "png_common.h"

int scan_png_info(png_structp png, png_infop *info, struct err *err)
{
    *info = png != NULL ? png_create_info_struct(png) : NULL;
    if (*info == NULL)
        return err_set(err, "png: out of memory");
    return 0;
}
