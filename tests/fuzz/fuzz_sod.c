/* Fuzz: what `civreg chip verify` reads: EF.SOD (0x77, CMS SignedData,
 * LDSSecurityObject) through the whole passive authentication, with the same
 * bytes also offered as DG1 and EF.COM. */
#include "fuzz.h"
#include "issuance/icao/passive_auth.h"
#include "issuance/icao/sod.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sod *s = NULL;
    struct pa_trust *t = NULL;
    struct pa_chip chip = { 0 };
    json_t *report = NULL;
    bool valid = false;

    if (sod_parse(data, size, &s, NULL) == 0)
        sod_free(s);
    if (pa_trust_new(&t, NULL) != 0)
        return 0;
    if (pa_trust_add_csca(t, data, size, "fuzz", NULL) != 0) {
        /* rejected input is fine */
    }
    if (pa_trust_add_crl(t, data, size, "fuzz", NULL) != 0) {
        /* rejected input is fine */
    }
    chip.sod = data;
    chip.sod_len = size;
    chip.dg[1] = data;
    chip.dg_len[1] = size;
    chip.com = data;
    chip.com_len = size;
    if (passive_auth(&chip, t, NULL, 0, &report, &valid, NULL) == 0 && valid)
        __builtin_trap(); /* nothing signed by a trusted CSCA can come from here */
    json_decref(report);
    pa_trust_free(t);
    return 0;
}
