/* civreg core: FNV-1a (64 bits), for in-memory hash tables and change
 * detection; not for security. */
#ifndef CIVREG_CORE_HASH_H
#define CIVREG_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_INIT UINT64_C(14695981039346656037)

/* H extended by the LEN bytes at P (start from FNV1A_INIT). */
static inline uint64_t fnv1a(uint64_t h, const void *p, size_t len)
{
    const unsigned char *c = p;

    for (size_t i = 0; i < len; i++)
        h = (h ^ c[i]) * UINT64_C(1099511628211);
    return h;
}

/* The hash of the NUL-terminated string S. */
static inline uint64_t fnv1a_str(const char *s)
{
    uint64_t h = FNV1A_INIT;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

#endif
