/* Fuzz: the search query parser and the name keys (registry). Whatever is
 * typed, a parsed query holds only A-Z/0-9 words in its name fields (they
 * become FTS5 expressions), valid dates, and the phonetic key and
 * Jaro-Winkler similarity stay in bounds. */
#include <string.h>

#include "fuzz.h"
#include "registry/search.h"

static void words_only(const char *s)
{
    if (s == NULL)
        return;
    if (*s == '\0' || *s == ' ')
        __builtin_trap();
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              (*s == ' ' && s[1] != ' ' && s[1] != '\0')))
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct registry_search_query q;
    struct buf b = BUF_INIT(1 << 16);
    char ph[REGISTRY_PHONETIC_MAX + 1];
    double jw;

    if (registry_search_query_parse((const char *)data, size, &q, NULL) == 0) {
        words_only(q.names);
        words_only(q.given);
        words_only(q.family);
        words_only(q.parents);
        words_only(q.place);
        if (q.has_date && (q.from.y < 1 || q.from.m < 0 || q.from.m > 12 || q.to.m > 12))
            __builtin_trap();
        registry_search_query_release(&q);
    }
    if (registry_name_fold((const char *)data, size, &b, NULL) == 0 && b.data) {
        words_only(buf_str(&b));
        registry_name_phonetic(buf_str(&b), b.len, ph);
        if (strlen(ph) > REGISTRY_PHONETIC_MAX)
            __builtin_trap();
    }
    jw = registry_jaro_winkler((const char *)data, size / 2, (const char *)data + size / 2,
                               size - size / 2);
    if (!(jw >= 0.0 && jw <= 1.0 + 1e-9))
        __builtin_trap();
    buf_release(&b);
    return 0;
}
