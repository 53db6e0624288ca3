/* Fuzz: the sign-in request body (POST /api/v1/session) as the server reads
 * it: delivered in chunks (the first byte picks their size) through
 * web_body_collect, parsed by web_body_json (depth-bounded, the body wiped
 * and released on every path), then the handler's field checks. */
#include <string.h>

#include "../support/chunk_source.h"
#include "core/json.h"
#include "fuzz.h"
#include "web/web_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = { "username", "password", "lang", NULL };
    struct chunk_source src;
    struct buf body = BUF_INIT(WEB_MAX_JSON_BODY);
    struct err err = ERR_INIT;
    const char *user = NULL, *pass = NULL, *lang = NULL;
    json_t *in = NULL;
    int st;

    if (size < 1)
        return 0;
    src.data = (const char *)data + 1;
    src.len = size - 1;
    src.pos = 0;
    src.chunk = (size_t)data[0] + 1;
    src.end = 0;
    /* announced length: none, or the real one */
    st = web_body_collect(chunk_source_read, &src, (data[0] & 1) ? (long long)src.len : -1,
                          WEB_MAX_JSON_BODY, &body);
    if (st != 0) {
        if (body.data != NULL)
            __builtin_trap(); /* a failed read keeps nothing */
        return 0;
    }
    if (body.len != src.len)
        __builtin_trap();
    if (web_body_json(&body, &in, &err) != 0) {
        if (in != NULL || body.data != NULL)
            __builtin_trap();
        return 0;
    }
    if (body.data != NULL || !json_is_object(in))
        __builtin_trap(); /* released, and an object */
    if (json_check_keys(in, keys, &err) == 0 &&
        json_get_string(in, "username", true, &user, &err) == 0 &&
        json_get_string(in, "password", true, &pass, &err) == 0 &&
        json_get_string(in, "lang", false, &lang, &err) == 0 && (user == NULL || pass == NULL))
        __builtin_trap();
    json_decref(in);
    return 0;
}
