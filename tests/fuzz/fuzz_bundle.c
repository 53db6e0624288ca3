/* Fuzz: offline verification of audit export bundles (registry). A bundle
 * is untrusted input; whatever it holds, verification must not crash and
 * must never accept it without a valid office signature. */
#include <string.h>

#include "core/json.h"
#include "fuzz.h"
#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    json_t *v = NULL;
    int problems;

    if (json_parse((const char *)data, size, &v, NULL) != 0)
        return 0;
    problems = registry_bundle_verify(v, key, NULL, NULL, NULL);
    /* Nobody holds the secret half of KEY: nothing may verify clean. */
    if (problems == 0)
        __builtin_trap();
    json_decref(v);
    return 0;
}
