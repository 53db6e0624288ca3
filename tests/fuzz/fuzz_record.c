/* Fuzz: birth record JSON validation and normalization (registry). */
#include <string.h>

#include "core/json.h"
#include "fuzz.h"
#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = NULL, *n = NULL, *again = NULL;
    struct buf a = BUF_INIT(1 << 20), b = BUF_INIT(1 << 20);

    if (json_parse((const char *)data, size, &v, NULL) != 0)
        return 0;
    if (registry_record_normalize(v, &n, NULL) == 0) {
        /* Normalizing is idempotent: a normalized record normalizes to itself. */
        if (registry_record_normalize(n, &again, NULL) != 0 || json_canonical(n, &a, NULL) != 0 ||
            json_canonical(again, &b, NULL) != 0 || a.len != b.len ||
            memcmp(a.data, b.data, a.len) != 0)
            __builtin_trap();
    }
    json_decref(v);
    json_decref(n);
    json_decref(again);
    buf_release(&a);
    buf_release(&b);
    return 0;
}
