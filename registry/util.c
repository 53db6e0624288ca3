/* civreg registry: small helpers shared by the registry's files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ed25519_batch.h"
#include "core/encode.h"
#include "core/json.h"
#include "registry_int.h"

int reg_now(char out[TIME_ISO8601_LEN + 1], struct err *err)
{
    if (time_iso8601(time(NULL), out) != 0)
        return err_set(err, "system clock out of range");
    return 0;
}

void reg_sha256_hex(const void *p, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(h, p, len);
    hex_encode(h, sizeof h, out);
}

int registry_file_sha256(FILE *f, char out[65], struct err *err)
{
    crypto_hash_sha256_state st;
    unsigned char block[65536], h[crypto_hash_sha256_BYTES];
    size_t n;

    crypto_hash_sha256_init(&st);
    while ((n = fread(block, 1, sizeof block, f)) > 0)
        crypto_hash_sha256_update(&st, block, n);
    if (ferror(f))
        return err_set(err, "reading the file to hash it failed");
    crypto_hash_sha256_final(&st, h);
    hex_encode(h, sizeof h, out);
    return 0;
}

char *reg_new_id(const char *office, char kind)
{
    char id[DB_ID_MAX];

    db_id_new(office, kind, id);
    return strdup(id);
}

void reg_sign(const unsigned char *sk, const void *msg, size_t len,
              unsigned char sig[REG_SIG_BYTES])
{
    crypto_sign_detached(sig, NULL, msg, len, sk);
}

bool reg_sig_ok(const unsigned char pk[REG_PK_BYTES], const void *msg, size_t len,
                const unsigned char *sig, size_t sig_len)
{
    if (sig == NULL || sig_len != REG_SIG_BYTES)
        return false;
    /* the batch verifier's equation, so that a signature is judged alike
     * alone and in a batch (`audit verify` with or without its workers,
     * the national push): docs/architecture.md */
    return ed25519_verify_one(pk, sig, msg, len);
}

int reg_hex32(const char *hex, unsigned char out[32], const char *what, struct err *err)
{
    size_t n = 0;

    if (hex == NULL || strlen(hex) != 64 || hex_decode(hex, 64, out, 32, &n, NULL) != 0 || n != 32)
        return err_set(err, "%s: expected 64 hex digits", what);
    return 0;
}

json_t *registry_object_ref(const char *kind, const char *id, const char *hash, const char *prev)
{
    json_t *o = json_pack("{s:s, s:s}", "kind", kind, "id", id);

    if (o == NULL)
        return NULL;
    if (hash && json_object_set_new(o, "hash", json_string(hash)) != 0)
        goto fail;
    if (prev && json_object_set_new(o, "prev", json_string(prev)) != 0)
        goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}

int registry_json_hash(const json_t *v, char out[65], struct err *err)
{
    struct buf b = BUF_INIT(16 << 20);

    if (json_canonical(v, &b, err) != 0) {
        buf_release(&b);
        return -1;
    }
    reg_sha256_hex(b.data ? b.data : (const unsigned char *)"", b.len, out);
    buf_release(&b);
    return 0;
}

int reg_prepare_cached(struct db *db, sqlite3_stmt **st, const char *sql, struct err *err)
{
    return db_stmt_cached(db, sql, st, err);
}

void reg_release(struct db *db, sqlite3_stmt *st)
{
    db_stmt_release(db, st);
}
