/* civreg core: sealed secrets at rest (XChaCha20-Poly1305, libsodium).
 *
 * A sealed blob is  "CRS1" || nonce (24) || ciphertext || tag (16).  The
 * associated data (AD) binds a blob to its purpose and owner (for example
 * "user-key:clerk1"), so a sealed key copied onto another row fails to open.
 *
 * Keys come from a password (Argon2id, seal_key_from_password) or from a key
 * file in the data directory's keys/ folder (seal_keyfile_load).
 */
#ifndef CIVREG_CORE_SEAL_H
#define CIVREG_CORE_SEAL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

#define SEAL_KEY_BYTES 32
#define SEAL_SALT_BYTES 16
#define SEAL_OVERHEAD (4 + 24 + 16)

/* Seal LEN bytes of PLAIN under KEY with associated data AD (NUL-terminated,
 * may be ""). Appends the sealed blob to OUT. */
int seal_encrypt(const unsigned char key[SEAL_KEY_BYTES], const void *plain, size_t len,
                 const char *ad, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));

/* Open a sealed blob. *PLAIN is allocated with sodium_malloc (guarded, locked
 * memory); release it with seal_free(*PLAIN, *PLAIN_LEN). Fails, naming why,
 * on a wrong key, wrong AD or any altered byte. */
int seal_decrypt(const unsigned char key[SEAL_KEY_BYTES], const void *sealed, size_t len,
                 const char *ad, unsigned char **plain, size_t *plain_len, struct err *err)
    __attribute__((warn_unused_result));

/* Wipe and free memory returned by seal_decrypt (NULL is a no-op). */
void seal_free(void *p, size_t len);

/* Derive a sealing key from a password with Argon2id (libsodium's
 * crypto_pwhash, "interactive" limits unless MODERATE is true). */
int seal_key_from_password(const char *password, const unsigned char salt[SEAL_SALT_BYTES],
                           bool moderate, unsigned char key[SEAL_KEY_BYTES], struct err *err)
    __attribute__((warn_unused_result));

/* Load a 32-byte key file; when it does not exist and CREATE is true, create
 * it with fresh random bytes, mode 0600, written atomically. Refuses a key
 * file readable by group or others. */
int seal_keyfile_load(const char *path, bool create, unsigned char key[SEAL_KEY_BYTES],
                      struct err *err) __attribute__((warn_unused_result));

#endif
