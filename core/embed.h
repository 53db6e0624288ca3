/* civreg core: files embedded into the binary at build time (migrations, web
 * assets). Each table ends with an all-zero entry; DATA is followed by a NUL
 * byte that LEN does not count, so text files can be used as C strings. */
#ifndef CIVREG_CORE_EMBED_H
#define CIVREG_CORE_EMBED_H

#include <stddef.h>

struct embedded_file {
    const char *name; /* path relative to the embedded folder */
    const unsigned char *data;
    size_t len;
};

/* The entry named NAME in TABLE (COUNT entries), or NULL. */
const struct embedded_file *embedded_find(const struct embedded_file *table, size_t count,
                                          const char *name);

#endif
