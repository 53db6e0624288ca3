/* Fuzz: `audit verify` over a hostile log. The input is a JSON array of
 * events for a fresh database with office HQ:
 *   - an object is an event body: the harness writes it in canonical form
 *     and signs it (office:HQ with the office key, anyone else with the one
 *     user key, whose public half the input may publish in a user.add), so
 *     the replay of every event type sees bodies that pass the signature;
 *   - a string is a body stored as is with a zero signature: a tampered log.
 * Whatever the log holds, the audit must not crash, and a tampered event
 * must be reported (problems > 0). The passport office's and the PKI's
 * handlers replay too, as in the program. */
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "core/json.h"
#include "db/db.h"
#include "fuzz.h"
#include "issuance/passport/office.h"
#include "issuance/pki/pki.h"
#include "registry/projection.h"
#include "registry/registry.h"

#define EVENTS_MAX 64

/* Fixed keys: office (seed 1) and the one user (seed 2); the corpus
 * publishes the user's public half, printed by `fuzz_audit --keys`. */
static unsigned char office_pk[32], office_sk[64], user_pk[32], user_sk[64];

static void keys(void)
{
    static int done;
    unsigned char seed[32];

    if (done)
        return;
    if (sodium_init() < 0)
        __builtin_trap();
    memset(seed, 1, sizeof seed);
    crypto_sign_seed_keypair(office_pk, office_sk, seed);
    memset(seed, 2, sizeof seed);
    crypto_sign_seed_keypair(user_pk, user_sk, seed);
    done = 1;
}

static int store(sqlite3 *h, int64_t seq, const json_t *ev)
{
    struct buf body = BUF_INIT(1 << 20);
    unsigned char sig[64] = { 0 }, leaf[32];
    crypto_hash_sha256_state hs;
    sqlite3_stmt *st = NULL;
    const char *text;
    size_t len;
    int raw = json_is_string(ev), rc = -1;

    if (raw) {
        text = json_string_value(ev);
        len = json_string_length(ev);
    } else {
        const char *actor = json_string_value(json_object_get(ev, "actor"));
        if (json_canonical(ev, &body, NULL) != 0)
            goto out;
        text = buf_str(&body);
        len = body.len;
        crypto_sign_detached(sig, NULL, (const unsigned char *)text, len,
                             actor && strncmp(actor, "office:", 7) == 0 ? office_sk : user_sk);
    }
    crypto_hash_sha256_init(&hs);
    crypto_hash_sha256_update(&hs, (const unsigned char *)"\x00", 1);
    crypto_hash_sha256_update(&hs, (const unsigned char *)text, len);
    crypto_hash_sha256_update(&hs, sig, sizeof sig);
    crypto_hash_sha256_final(&hs, leaf);
    if (sqlite3_prepare_v2(h,
                           "INSERT INTO events(seq, type, actor, office, created_at, body,"
                           " signature, leaf_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                           -1, &st, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(st, 1, seq);
    for (int i = 0; i < 4; i++) {
        static const char *const k[] = { "type", "actor", "office", "time" };
        const char *v = raw ? NULL : json_string_value(json_object_get(ev, k[i]));
        sqlite3_bind_text(st, i + 2, v ? v : "", -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_text(st, 6, text, (int)len, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 7, sig, sizeof sig, SQLITE_STATIC);
    sqlite3_bind_blob(st, 8, leaf, sizeof leaf, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? raw : -1;
out:
    sqlite3_finalize(st);
    buf_release(&body);
    return rc;
}

/* One database for every input (WAL needs a file): office HQ and its key;
 * each input replaces the events. */
static struct db *db;
static char dir[64], path[128];

static void cleanup(void)
{
    char f[160];

    db_close(db);
    for (int i = 0; i < 3; i++) {
        static const char *const ext[] = { "", "-wal", "-shm" };
        (void)snprintf(f, sizeof f, "%s%s", path, ext[i]);
        (void)remove(f);
    }
    (void)rmdir(dir);
}

static void open_db(void)
{
    sqlite3 *h;
    sqlite3_stmt *st = NULL;

    (void)snprintf(dir, sizeof dir, "/tmp/civreg-fuzz-audit-XXXXXX");
    if (mkdtemp(dir) == NULL)
        __builtin_trap();
    (void)snprintf(path, sizeof path, "%s/civreg.db", dir);
    if (db_open(path, DB_OPEN_CREATE | DB_OPEN_MIGRATE, &db, NULL) != 0 ||
        db_setting_set(db, "office", "HQ", NULL) != 0)
        __builtin_trap();
    atexit(cleanup);
    registry_audit_register(office_projection());
    registry_audit_register(pki_projection());
    h = db_handle(db);
    /* a scratch database: durability does not matter, speed does */
    if (sqlite3_exec(h, "PRAGMA synchronous = OFF", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(h,
                     "INSERT INTO offices(code, name, country, created_at) VALUES ('HQ',"
                     " 'Head office', 'UTO', '2026-01-01T00:00:00Z')",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h,
                           "INSERT INTO office_keys(office, public_key, sealed_key, created_at)"
                           " VALUES ('HQ', ?1, x'00', '2026-01-01T00:00:00Z')",
                           -1, &st, NULL) != SQLITE_OK)
        __builtin_trap();
    sqlite3_bind_blob(st, 1, office_pk, sizeof office_pk, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        __builtin_trap();
    sqlite3_finalize(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sqlite3 *h;
    json_t *log = NULL, *ev;
    size_t i;
    int tampered = 0, problems;

    keys();
    if (db == NULL)
        open_db();
    if (json_parse((const char *)data, size, &log, NULL) != 0 || !json_is_array(log) ||
        json_array_size(log) > EVENTS_MAX)
        goto out;
    h = db_handle(db);
    if (sqlite3_exec(h, "BEGIN; DELETE FROM events", NULL, NULL, NULL) != SQLITE_OK)
        __builtin_trap();
    json_array_foreach(log, i, ev) {
        int r = store(h, (int64_t)i, ev);
        if (r < 0) {
            /* not storable (e.g. NUL in a string): nothing to audit */
            (void)sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
        tampered |= r;
    }
    if (sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        __builtin_trap();
    problems = registry_audit_verify(db, NULL, "/nonexistent", NULL, NULL, NULL, NULL, NULL);
    if (tampered && problems == 0)
        __builtin_trap();
out:
    json_decref(log);
    return 0;
}
