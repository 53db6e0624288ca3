/* Fuzz: the strict MRZ parser and name transliteration. The first byte
 * picks the target. Invariants: no crash; a valid parse has no errors and
 * only valid checks, and renders as JSON; a transliteration holds only A-Z
 * and single '<' between letters. */
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/translit.h"
#include "fuzz.h"
#include "issuance/icao/mrz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct mrz_date today = { 2026, 1, 1 };
    const char *s = (const char *)data + 1;
    struct mrz_result res;
    struct err err = ERR_INIT;

    if (size < 1)
        return 0;
    size--;
    if (data[0] & 1) {
        struct buf out = BUF_INIT(1 << 20), w = BUF_INIT(1 << 20);
        if (translit_mrz(s, size, &out, &w, &err) == 0) {
            const char *o = buf_str(&out);
            for (size_t i = 0; i < out.len; i++) {
                if (!((o[i] >= 'A' && o[i] <= 'Z') || o[i] == '<'))
                    __builtin_trap();
                if (o[i] == '<' && (i == 0 || i + 1 == out.len || o[i + 1] == '<'))
                    __builtin_trap();
            }
        }
        buf_release(&out);
        buf_release(&w);
        return 0;
    }
    if (mrz_parse(s, size, &today, &res, &err) != 0)
        return 0;
    if (res.valid) {
        if (res.nerrors != 0)
            __builtin_trap();
        for (size_t i = 0; i < res.nchecks; i++)
            if (!res.checks[i].valid)
                __builtin_trap();
    }
    json_t *j = NULL;
    if (mrz_result_json(&res, &j, &err) != 0)
        __builtin_trap();
    json_decref(j);
    return 0;
}
