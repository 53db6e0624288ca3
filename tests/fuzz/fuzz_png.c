/* Fuzz: the PNG decoder (and the quality measures on what it decodes),
 * with small limits so a claimed size can never exhaust memory. */
#include "fuzz_decoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_decoder(scan_decode_png, data, size);
}
