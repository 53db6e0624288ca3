/* Fuzz: the one-pass canonical reader of the national push's and the
 * audit's event bodies, which json_parse tries first (json_read_canonical,
 * core/json_canon.c). Whatever it accepts must be what the full check
 * accepts: jansson's own parser reads the text, its canonical form is the
 * text itself byte for byte, and the two values are equal. */
#include <string.h>

#include "core/json.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *fast = NULL, *full = NULL;
    struct buf canon = BUF_INIT(1 << 20);

    if (json_read_canonical((const char *)data, size, &fast) != 0) {
        if (fast != NULL)
            __builtin_trap(); /* a refusal leaves nothing behind */
        return 0;
    }
    if ((full = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
        json_canonical(full, &canon, NULL) != 0 || canon.len != size ||
        memcmp(canon.data, data, size) != 0 || !json_equal(fast, full))
        __builtin_trap();
    json_decref(fast);
    json_decref(full);
    buf_release(&canon);
    return 0;
}
