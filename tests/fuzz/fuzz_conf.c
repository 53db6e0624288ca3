/* Fuzz: civreg.conf parser. */
#include "core/conf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf *c = NULL;

    if (conf_parse((const char *)data, size, "fuzz.conf", &c, NULL) == 0) {
        (void)conf_get(c, "country", NULL);
        conf_free(c);
    }
    return 0;
}
