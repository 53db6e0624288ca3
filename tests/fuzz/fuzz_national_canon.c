/* Fuzz: the one-pass canonical reader of the national push's and the
 * audit's event bodies, which json_parse tries first (json_read_canonical,
 * core/json_canon.c). Whatever it accepts must be what the full check
 * accepts: jansson's own parser reads the text, its canonical form is the
 * text itself byte for byte, and the two values are equal. Read without
 * building (json_read_canonical_pick, what the push does with a record
 * version), the verdict is the same, and a member picked is the canonical
 * form of that member's value. */
#include <string.h>

#include "core/json.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *fast = NULL, *full = NULL;
    struct buf canon = BUF_INIT(1 << 20);

    struct json_pick pick[2] = { { "a", NULL, 0 }, { "data/link/statement", NULL, 0 } };
    int rc = json_read_canonical((const char *)data, size, &fast);

    if (json_read_canonical_pick((const char *)data, size, NULL, pick, 2) != rc)
        __builtin_trap(); /* the same verdict without the tree */
    if (rc != 0) {
        if (fast != NULL || pick[0].at != NULL || pick[1].at != NULL)
            __builtin_trap(); /* a refusal leaves nothing behind */
        return 0;
    }
    for (int i = 0; i < 2; i++) {
        const json_t *m = json_object_get(fast, "a");
        if (i == 1)
            m = json_object_get(json_object_get(json_object_get(fast, "data"), "link"),
                                "statement");
        if ((m == NULL) != (pick[i].at == NULL))
            __builtin_trap();
        buf_reset(&canon);
        if (m != NULL && (json_canonical(m, &canon, NULL) != 0 || canon.len != pick[i].len ||
                          memcmp(canon.data, pick[i].at, canon.len) != 0))
            __builtin_trap();
    }
    buf_reset(&canon);
    if ((full = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
        json_canonical(full, &canon, NULL) != 0 || canon.len != size ||
        memcmp(canon.data, data, size) != 0 || !json_equal(fast, full))
        __builtin_trap();
    json_decref(fast);
    json_decref(full);
    buf_release(&canon);
    return 0;
}
