/* civreg core: secrets over libsodium (init, wipe, constant-time compare,
 * random bytes). Keys, passwords and session tokens are compared with
 * secret_equal and wiped with secret_wipe after use. */
#ifndef CIVREG_CORE_SECRET_H
#define CIVREG_CORE_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Initialise libsodium; safe to call more than once and from several threads.
 * Returns 0, or -1 when the library cannot start (no entropy source). */
int secret_init(struct err *err) __attribute__((warn_unused_result));

/* Zero LEN bytes in a way the compiler will not optimise away. */
void secret_wipe(void *p, size_t len);

/* Constant-time equality of two LEN-byte buffers. */
bool secret_equal(const void *a, const void *b, size_t len) __attribute__((warn_unused_result));

/* Constant-time equality of two NUL-terminated strings; the time depends on
 * the lengths only, never on where they differ. */
bool secret_equal_str(const char *a, const char *b) __attribute__((warn_unused_result));

/* LEN unpredictable bytes from the operating system's CSPRNG. */
void secret_random(void *p, size_t len);

/* A uniform random integer in [0, upper). */
unsigned secret_random_below(unsigned upper);

#endif
