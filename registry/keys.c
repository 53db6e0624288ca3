/* civreg registry: the office log-signing key. Its Ed25519 secret half is
 * sealed in table office_keys under a 32-byte key file keys/office-<CODE>.key
 * (mode 0600): the database alone cannot sign tree heads. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/encode.h"
#include "core/seal.h"
#include "db/rows.h"
#include "registry_int.h"

static int keyfile_path(const char *keys_dir, const char *office, char *out, size_t size,
                        struct err *err)
{
    int n = snprintf(out, size, "%s/office-%s.key", keys_dir, office);

    if (n < 0 || (size_t)n >= size)
        return err_set(err, "%s: path too long", keys_dir);
    return 0;
}

int reg_office_key_load(struct db *db, const char *keys_dir, const char *office, bool create,
                        unsigned char pk[REG_PK_BYTES], unsigned char **sk, struct err *err)
{
    unsigned char seal_key[SEAL_KEY_BYTES];
    char path[PATH_MAX], ad[64];
    sqlite3_stmt *st = NULL;
    struct buf sealed = BUF_INIT(4096);
    unsigned char *plain = NULL;
    size_t plain_len = 0;
    int rc = -1, step;

    *sk = NULL;
    (void)snprintf(ad, sizeof ad, "office-log-key:%s", office);
    if (keyfile_path(keys_dir, office, path, sizeof path, err) != 0)
        return -1;
    step = db_query_row(db, &st, "SELECT public_key, sealed_key FROM office_keys WHERE office=?1",
                        "reading office_keys", err, "s", office);
    if (step < 0)
        goto out;
    if (step == 1) {
        const void *p = sqlite3_column_blob(st, 0);
        if (sqlite3_column_bytes(st, 0) != REG_PK_BYTES || p == NULL) {
            err_set(err, "office_keys '%s': public key is not 32 bytes", office);
            goto out;
        }
        memcpy(pk, p, REG_PK_BYTES);
        if (seal_keyfile_load(path, false, seal_key, err) != 0) {
            err_prefix(err, "office log key");
            goto out;
        }
        if (seal_decrypt(seal_key, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                         ad, &plain, &plain_len, err) != 0) {
            err_prefix(err, "office log key of %s (%s)", office, path);
            goto out;
        }
        if (plain_len != REG_SK_BYTES || memcmp(plain + 32, pk, REG_PK_BYTES) != 0) {
            err_set(err, "office log key of %s: sealed key does not match its public key", office);
            goto out;
        }
        *sk = plain;
        plain = NULL;
        rc = 0;
        goto out;
    }
    if (!create) {
        err_set(err, "office %s has no log key yet (create the first user with `civreg user add`)",
                office);
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (seal_keyfile_load(path, true, seal_key, err) != 0)
        goto out;
    plain = sodium_malloc(REG_SK_BYTES);
    if (plain == NULL) {
        err_set(err, "out of secure memory");
        goto out;
    }
    plain_len = REG_SK_BYTES;
    crypto_sign_keypair(pk, plain);
    if (seal_encrypt(seal_key, plain, REG_SK_BYTES, ad, &sealed, err) != 0)
        goto out;
    {
        char now[TIME_ISO8601_LEN + 1];
        if (reg_now(now, err) != 0)
            goto out;
        if (db_run(db,
                   "INSERT INTO office_keys(office, public_key, sealed_key, created_at)"
                   " VALUES (?1, ?2, ?3, ?4)",
                   "storing the office log key", err, "sbbs", office, pk, (size_t)REG_PK_BYTES,
                   sealed.data, sealed.len, now) != 0)
            goto out;
    }
    *sk = plain;
    plain = NULL;
    rc = 0;
out:
    sodium_memzero(seal_key, sizeof seal_key);
    seal_free(plain, plain_len);
    buf_release(&sealed);
    sqlite3_finalize(st);
    return rc;
}

int registry_office_public_key(struct db *db, const char *office, unsigned char out[32],
                               struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = db_query_row(db, &st, "SELECT public_key FROM office_keys WHERE office=?1",
                          "reading office_keys", err, "s", office);

    if (rc == 1 && sqlite3_column_bytes(st, 0) == 32) {
        memcpy(out, sqlite3_column_blob(st, 0), 32);
        rc = 0;
    } else if (rc >= 0) {
        rc = err_set(err, "office %s has no log key", office);
    }
    sqlite3_finalize(st);
    return rc;
}
