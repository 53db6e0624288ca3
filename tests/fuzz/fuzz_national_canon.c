/* Fuzz: the national tier's one-pass reader of a pushed event body
 * (nat_parse_canonical, registry/national/canon.c). Whatever it accepts
 * must be what the full check accepts: the text parses, its canonical form
 * is the text itself byte for byte, and the two values are equal. */
#include <string.h>

#include "core/json.h"
#include "fuzz.h"
#include "registry/national/national_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *fast = NULL, *full = NULL;
    struct buf canon = BUF_INIT(1 << 20);

    if (nat_parse_canonical((const char *)data, size, &fast) != 0) {
        if (fast != NULL)
            __builtin_trap(); /* a refusal leaves nothing behind */
        return 0;
    }
    if (json_parse((const char *)data, size, &full, NULL) != 0 ||
        json_canonical(full, &canon, NULL) != 0 || canon.len != size ||
        memcmp(canon.data, data, size) != 0 || !json_equal(fast, full))
        __builtin_trap();
    json_decref(fast);
    json_decref(full);
    buf_release(&canon);
    return 0;
}
