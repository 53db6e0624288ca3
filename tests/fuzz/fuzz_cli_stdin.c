/* Fuzz: the JSON documents civreg commands read on stdin, through the same
 * parser (json_parse, depth-bounded) and then the consumer the first byte
 * picks: `mrz generate` (mrz_generate_json), `death register --json`
 * (registry_death_normalize) or `record draft/verify/correct`
 * (registry_record_normalize). */
#include <string.h>

#include "core/json.h"
#include "fuzz.h"
#include "issuance/icao/mrz.h"
#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf lines = BUF_INIT(4096), warn = BUF_INIT(4096);
    json_t *v = NULL, *n = NULL;

    if (size < 1)
        return 0;
    if (json_parse((const char *)data + 1, size - 1, &v, NULL) != 0)
        return 0;
    switch (data[0] % 3) {
    case 0:
        if (mrz_generate_json(v, &lines, &warn, NULL) == 0 && lines.len == 0)
            __builtin_trap(); /* generated nothing yet succeeded */
        break;
    case 1: (void)!registry_death_normalize(v, &n, NULL); break;
    default: (void)!registry_record_normalize(v, &n, NULL); break;
    }
    json_decref(v);
    json_decref(n);
    buf_release(&lines);
    buf_release(&warn);
    return 0;
}
