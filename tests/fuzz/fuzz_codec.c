/* Fuzz: hex and base64url decoders round-trip what they accept. */
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char out[4096], *dec = NULL;
    size_t n = 0;
    const char *s = (const char *)data;

    if (hex_decode(s, size, out, sizeof out, &n, NULL) == 0) {
        char *again = hex_encode_alloc(out, n);
        if (again == NULL || strlen(again) != size)
            __builtin_trap();
        free(again);
    }
    if (b64url_decode(s, size, 1 << 16, &dec, &n, NULL) == 0) {
        char *again = b64url_encode(dec, n);
        unsigned char *dec2 = NULL;
        size_t n2 = 0;
        if (again == NULL || b64url_decode(again, strlen(again), 1 << 16, &dec2, &n2, NULL) != 0 ||
            n2 != n || memcmp(dec, dec2, n) != 0)
            __builtin_trap();
        free(dec2);
        free(again);
        free(dec);
    }
    return 0;
}
