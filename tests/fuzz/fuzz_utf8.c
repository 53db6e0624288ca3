/* Fuzz: UTF-8 validation and normalization (NFC of NFD equals NFC). */
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *nfc = NULL, *nfd = NULL, *nfc2 = NULL;
    size_t n1 = 0, n2 = 0, n3 = 0;
    const char *s = (const char *)data;

    if (utf8_normalize(s, size, UTF8_NFC, &nfc, &n1, NULL) != 0)
        return 0;
    if (utf8_normalize(s, size, UTF8_NFD, &nfd, &n2, NULL) != 0 ||
        utf8_normalize(nfd, n2, UTF8_NFC, &nfc2, &n3, NULL) != 0 || n1 != n3 ||
        memcmp(nfc, nfc2, n1) != 0 || !utf8_valid(nfc, n1))
        __builtin_trap();
    free(nfc);
    free(nfd);
    free(nfc2);
    return 0;
}
