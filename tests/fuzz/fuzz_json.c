/* Fuzz: core JSON parsing and RFC 8785 canonicalization. */
#include <string.h>

#include "core/json.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = NULL, *again = NULL;
    struct buf b = BUF_INIT(1 << 20), b2 = BUF_INIT(1 << 20);

    if (json_parse((const char *)data, size, &v, NULL) != 0)
        return 0;
    if (json_canonical(v, &b, NULL) == 0) {
        /* Canonical output parses back and is a fixed point. */
        if (json_parse((const char *)b.data, b.len, &again, NULL) != 0 ||
            json_canonical(again, &b2, NULL) != 0 || b.len != b2.len ||
            memcmp(b.data, b2.data, b.len) != 0)
            __builtin_trap();
    }
    json_decref(again);
    json_decref(v);
    buf_release(&b);
    buf_release(&b2);
    return 0;
}
