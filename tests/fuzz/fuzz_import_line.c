/* Fuzz: `civreg record import --jsonl` lines. The input is a JSONL file:
 * each line goes through json_parse and the record normalization exactly as
 * the import does before drafting (cli/cmd_record.c), whatever its nesting
 * depth or length. A line refused by the parser must leave no value; an
 * accepted line normalizes idempotently. */
#include <string.h>

#include "core/json.h"
#include "fuzz.h"
#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        json_t *v = (json_t *)1, *n = NULL, *again = NULL;
        struct err e = ERR_INIT;

        if (len > 1) {
            if (json_parse(p, len, &v, &e) != 0) {
                if (v != NULL)
                    __builtin_trap(); /* a refused line leaves nothing */
            } else if (registry_record_normalize(v, &n, NULL) == 0) {
                if (registry_record_normalize(n, &again, NULL) != 0 || !json_equal(n, again))
                    __builtin_trap();
            }
            if (v != (json_t *)1)
                json_decref(v);
            json_decref(n);
            json_decref(again);
        }
        p += len;
    }
    return 0;
}
