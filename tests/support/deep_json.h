/* civreg tests: a JSON object nested past any sane depth, {"KEY":[[[...]]]}
 * with DEPTH '[' and DEPTH ']', to prove the CLI and the web server refuse
 * deep input with a clear error instead of exhausting the stack. Include after
 * <cmocka.h>. */
#ifndef CIVREG_TEST_DEEP_JSON_H
#define CIVREG_TEST_DEEP_JSON_H

#include <stddef.h>

#include "core/buf.h"

/* The document (malloc'd; its length into LEN when LEN is not NULL). */
static inline char *deep_json(const char *key, size_t depth, size_t *len)
{
    struct buf b = BUF_INIT(1 << 24);
    char *s;

    assert_int_equal(buf_append_str(&b, "{\""), 0);
    assert_int_equal(buf_append_str(&b, key), 0);
    assert_int_equal(buf_append_str(&b, "\":"), 0);
    for (size_t i = 0; i < depth; i++)
        assert_int_equal(buf_append_byte(&b, '['), 0);
    for (size_t i = 0; i < depth; i++)
        assert_int_equal(buf_append_byte(&b, ']'), 0);
    assert_int_equal(buf_append_byte(&b, '}'), 0);
    s = (char *)buf_detach(&b, len);
    assert_non_null(s);
    return s;
}

#endif
