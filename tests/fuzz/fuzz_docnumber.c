/* Fuzz: document number patterns. Invariants: no crash; a pattern that
 * passes the check formats every sequence it accepts into A-Z 0-9 only,
 * within the MRZ length of its document type. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "issuance/passport/office.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct err err = ERR_INIT;
    const char *type;
    char *pattern, out[32];

    if (size < 1 || size > 256)
        return 0;
    type = (data[0] & 1) ? "TD1" : "TD3";
    pattern = malloc(size);
    if (pattern == NULL)
        return 0;
    memcpy(pattern, data + 1, size - 1);
    pattern[size - 1] = '\0';
    if (office_number_pattern_check(pattern, type, "HQ", &err) == 0) {
        static const uint64_t seqs[] = { 1, 7, 999, 1000, 999999999 };
        for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
            if (office_number_format(pattern, "HQ", 2026, seqs[i], out, &err) != 0)
                continue;
            size_t n = strlen(out);
            if (n == 0 || n > (type[2] == '3' ? 9u : 22u))
                __builtin_trap();
            for (size_t k = 0; k < n; k++)
                if (!((out[k] >= 'A' && out[k] <= 'Z') || (out[k] >= '0' && out[k] <= '9')))
                    __builtin_trap();
        }
    }
    free(pattern);
    return 0;
}
