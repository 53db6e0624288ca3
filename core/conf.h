/* civreg core: the data directory's civreg.conf, a plain "key = value" file.
 * Lines starting with '#' are comments; keys are [a-z0-9_.]; values are UTF-8
 * trimmed of surrounding blanks. */
#ifndef CIVREG_CORE_CONF_H
#define CIVREG_CORE_CONF_H

#include <stddef.h>

#include "err.h"

#define CONF_MAX_BYTES (64 * 1024)
#define CONF_MAX_ENTRIES 128

struct conf;

/* Parse LEN bytes. NAME labels messages ("civreg.conf:12: ..."). *OUT is
 * freed with conf_free. */
int conf_parse(const char *text, size_t len, const char *name, struct conf **out,
               struct err *err) __attribute__((warn_unused_result));

/* Read and parse a file. */
int conf_load(const char *path, struct conf **out, struct err *err)
    __attribute__((warn_unused_result));

void conf_free(struct conf *c);

/* The value of KEY, or DEFLT when absent. Borrowed from C. */
const char *conf_get(const struct conf *c, const char *key, const char *deflt);

/* The value of KEY as a decimal number from MIN to MAX into *OUT, or DEFLT
 * when absent. Fails with "civreg.conf: KEY must be a number from MIN to
 * MAX" on anything else. */
int conf_get_uint(const struct conf *c, const char *key, unsigned long deflt, unsigned long min,
                  unsigned long max, unsigned long *out, struct err *err)
    __attribute__((warn_unused_result));

#endif
