#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const unsigned char seal_magic[4] = { 'C', 'R', 'S', '1' };

int seal_encrypt(const unsigned char key[SEAL_KEY_BYTES], const void *plain, size_t len,
                 const char *ad, struct buf *out, struct err *err)
{
    unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    unsigned long long clen = 0;
    size_t start;

    if (len > SIZE_MAX - SEAL_OVERHEAD)
        return err_set(err, "seal: secret too large");
    randombytes_buf(nonce, sizeof nonce);
    if (buf_append(out, seal_magic, sizeof seal_magic) != 0 ||
        buf_append(out, nonce, sizeof nonce) != 0)
        return err_set(err, "seal: output too large");
    start = out->len;
    /* Reserve room for ciphertext and tag, then encrypt in place. */
    for (size_t i = 0; i < len + crypto_aead_xchacha20poly1305_ietf_ABYTES; i++)
        if (buf_append_byte(out, 0) != 0)
            return err_set(err, "seal: output too large");
    crypto_aead_xchacha20poly1305_ietf_encrypt(out->data + start, &clen, plain, len,
                                               (const unsigned char *)ad, strlen(ad), NULL, nonce,
                                               key);
    out->len = start + (size_t)clen;
    return 0;
}

int seal_decrypt(const unsigned char key[SEAL_KEY_BYTES], const void *sealed, size_t len,
                 const char *ad, unsigned char **plain, size_t *plain_len, struct err *err)
{
    const unsigned char *p = sealed;
    unsigned long long mlen = 0;
    size_t clen;
    unsigned char *m;

    *plain = NULL;
    *plain_len = 0;
    if (len < SEAL_OVERHEAD || memcmp(p, seal_magic, sizeof seal_magic) != 0)
        return err_set(err, "seal: not a sealed secret (bad header or truncated)");
    clen = len - 4 - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    m = sodium_malloc(clen > 0 ? clen : 1);
    if (m == NULL)
        return err_set(err, "seal: out of secure memory");
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            m, &mlen, NULL, p + 4 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, clen,
            (const unsigned char *)ad, strlen(ad), p + 4, key) != 0) {
        sodium_free(m);
        return err_set(err, "seal: cannot open: wrong key or password, or the sealed data was "
                            "altered");
    }
    *plain = m;
    *plain_len = (size_t)mlen;
    return 0;
}

void seal_free(void *p, size_t len)
{
    (void)len; /* sodium_free wipes the whole allocation */
    if (p != NULL)
        sodium_free(p);
}

int seal_key_from_password(const char *password, const unsigned char salt[SEAL_SALT_BYTES],
                           bool moderate, unsigned char key[SEAL_KEY_BYTES], struct err *err)
{
    if (crypto_pwhash(key, SEAL_KEY_BYTES, password, strlen(password), salt,
                      moderate ? crypto_pwhash_OPSLIMIT_MODERATE
                               : crypto_pwhash_OPSLIMIT_INTERACTIVE,
                      moderate ? crypto_pwhash_MEMLIMIT_MODERATE
                               : crypto_pwhash_MEMLIMIT_INTERACTIVE,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return err_set(err, "seal: key derivation ran out of memory");
    return 0;
}

int seal_keyfile_load(const char *path, bool create, unsigned char key[SEAL_KEY_BYTES],
                      struct err *err)
{
    struct stat st;
    char tmp[4096];
    ssize_t n;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            return err_set(err, "%s: not a regular file", path);
        }
        if (st.st_mode & 077) {
            close(fd);
            return err_set(err, "%s: key file is readable by others (mode %03o): chmod 600 it",
                           path, (unsigned)(st.st_mode & 0777));
        }
        n = read(fd, key, SEAL_KEY_BYTES);
        close(fd);
        if (n != SEAL_KEY_BYTES || st.st_size != SEAL_KEY_BYTES)
            return err_set(err, "%s: key file must hold exactly %d bytes", path, SEAL_KEY_BYTES);
        return 0;
    }
    if (errno != ENOENT || !create)
        return err_set(err, "%s: %s", path, strerror(errno));
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return err_set(err, "%s: path too long", path);
    randombytes_buf(key, SEAL_KEY_BYTES);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(err, "%s: %s", tmp, strerror(errno));
    if (write(fd, key, SEAL_KEY_BYTES) != SEAL_KEY_BYTES || fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return err_set(err, "%s: write failed", tmp);
    }
    close(fd);
    /* link() fails if another process created the key meanwhile: then use
     * theirs, never overwrite a key that may already seal data. */
    if (link(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        sodium_memzero(key, SEAL_KEY_BYTES);
        if (e == EEXIST)
            return seal_keyfile_load(path, false, key, err);
        return err_set(err, "%s: %s", path, strerror(e));
    }
    unlink(tmp);
    return 0;
}
