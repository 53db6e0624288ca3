/* civreg registry: small helpers shared by the registry's files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    unsigned char rnd[10];
    char hex[21];
    size_t n = strlen(office) + 3 + 20 + 1;
    char *id = malloc(n);

    if (id == NULL)
        return NULL;
    randombytes_buf(rnd, sizeof rnd);
    hex_encode(rnd, sizeof rnd, hex);
    (void)snprintf(id, n, "%s-%c-%s", office, kind, hex);
    return id;
}

int reg_sql_fail(struct db *db, const char *what, struct err *err)
{
    return err_setk(err, db_error_kind(db), "db: %s: %s", what, sqlite3_errmsg(db_handle(db)));
}

int reg_prepare(struct db *db, sqlite3_stmt **st, const char *sql, struct err *err)
{
    *st = NULL;
    if (sqlite3_prepare_v2(db_handle(db), sql, -1, st, NULL) != SQLITE_OK)
        return reg_sql_fail(db, "preparing a statement", err);
    return 0;
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
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0;
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
