/* Fuzz: the JPEG/PNG header reader of enrolment uploads. Invariants: no
 * crash, no read past the input; an accepted header has a type and a
 * non-zero size; the portrait and signature rules agree with it. */
#include <stdint.h>

#include "fuzz.h"
#include "issuance/icao/photo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct photo_info info;
    struct err err = ERR_INIT;

    if (photo_inspect(data, size, &info, &err) == 0) {
        if ((info.type != PHOTO_JPEG && info.type != PHOTO_PNG) || info.width == 0 ||
            info.height == 0)
            __builtin_trap();
        if (photo_check_portrait(data, size, NULL, &err) == 0 && info.type != PHOTO_JPEG)
            __builtin_trap();
    } else if (photo_check_portrait(data, size, NULL, &err) == 0 ||
               photo_check_signature(data, size, NULL, &err) == 0) {
        __builtin_trap();
    }
    return 0;
}
