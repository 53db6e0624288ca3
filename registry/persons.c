/* civreg registry: persons and the signed links between a person, the
 * record version that proves their birth and the evidence it was keyed
 * from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "core/json.h"
#include "db/rows.h"
#include "registry_int.h"

/* Whether a person holds UIN already: 1 held, 0 free, -1 error. */
static int uin_held(struct db *db, const char *uin, struct err *err)
{
    long long one;

    return db_query_int64(db, "SELECT 1 FROM persons WHERE uin = ?1",
                          "checking the identity number", &one, err, "s", uin);
}

/* The next unused UIN of the office's national blocks (uin_pool), marked
 * used in the caller's transaction. 1: the office has never received a
 * block (it draws its own UINs); 0: *UIN set; -1: error, or every UIN of
 * its blocks is used (refused: an office in the national scheme never draws
 * a UIN of its own, so no collision can arise). *POOLED: whether uin_pool
 * has a row, REG_UIN_POOL_UNKNOWN to read it (and keep the answer). */
static int uin_from_pool(struct db *db, int *pooled, char uin[REGISTRY_UIN_LEN + 1],
                         struct err *err)
{
    if (*pooled == REG_UIN_POOL_UNKNOWN) {
        long long any = 0;
        if (db_query_int64(db, "SELECT EXISTS (SELECT 1 FROM uin_pool)",
                           "reading the national UIN blocks", &any, err, "") < 0)
            return -1;
        *pooled = any != 0;
    }
    if (*pooled == 0)
        return 1;
    for (;;) {
        char *drawn = NULL;
        int r = db_query_text(db,
                              "SELECT uin FROM uin_pool WHERE used_at IS NULL"
                              " ORDER BY received_at, rowid LIMIT 1",
                              "drawing a national UIN", &drawn, err, "");
        if (r < 0)
            return -1;
        if (r == 0)
            return err_setk(err, ERR_CONFLICT,
                            "registration refused: this office has used every national UIN of its "
                            "blocks; connect to the national tier and run `civreg sync uin-block` "
                            "(or `civreg sync push`, which tops the block up) to receive a new one");
        (void)snprintf(uin, REGISTRY_UIN_LEN + 1, "%s", drawn ? drawn : "");
        free(drawn);
        if (db_run(db,
                   "UPDATE uin_pool SET used_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
                   " WHERE uin = ?1",
                   "marking a national UIN used", err, "s", uin) != 0)
            return -1;
        /* an old UIN this office drew itself before it joined: skip it */
        r = uin_held(db, uin, err);
        if (r < 0)
            return -1;
        if (r == 0 && registry_uin_check(uin, NULL) == 0)
            return 0;
    }
}

int reg_uin_allocate(struct db *db, int *pooled, char uin[REGISTRY_UIN_LEN + 1],
                     struct err *err)
{
    int own = REG_UIN_POOL_UNKNOWN;
    int rc = uin_from_pool(db, pooled ? pooled : &own, uin, err);

    if (rc <= 0)
        return rc;
    rc = -1;
    /* 9 random digits give ~10^8 valid numbers after the pattern rules; a
     * collision is rare and simply draws again. */
    for (int attempt = 0; attempt < 1000; attempt++) {
        int held;
        registry_uin_generate(uin);
        held = uin_held(db, uin, err);
        if (held == 0) {
            rc = 0;
            break;
        }
        if (held < 0)
            break;
    }
    if (rc != 0 && err && err->msg[0] == '\0')
        err_set(err, "could not find an unused identity number");
    return rc;
}

int reg_person_store(struct db *db, const char *uin, const char *record_id, const char *by,
                     const char *now, uint64_t seq, struct err *err)
{
    return db_run(db,
                  "INSERT INTO persons(uin, record_id, created_by, created_at, event_seq)"
                  " VALUES (?1, ?2, ?3, ?4, ?5)",
                  "storing the person", err, "ssssI", uin, record_id, by, now, (long long)seq);
}

int reg_person_hash(const char *uin, const char *record_id, char out[65], struct err *err)
{
    json_t *p = json_pack("{s:s, s:s}", "uin", uin, "record_id", record_id);
    int rc;

    if (p == NULL)
        return err_oom(err);
    rc = registry_json_hash(p, out, err);
    json_decref(p);
    return rc;
}

int reg_link_sign(const struct registry_actor *actor, const char *uin, const char *record_id,
                  int version, const char *record_hash, const json_t *evidence, const char *now,
                  struct buf *unsigned_body, json_t **link, char link_hash[65], struct err *err)
{
    struct buf body = BUF_INIT(64 * 1024);
    unsigned char sig[REG_SIG_BYTES];
    char sig_hex[2 * REG_SIG_BYTES + 1], person_hash[65];
    json_t *statement = NULL, *ev = NULL;
    int rc = -1;

    *link = NULL;
    if (reg_person_hash(uin, record_id, person_hash, err) != 0)
        return -1;
    ev = evidence ? json_deep_copy(evidence) : json_array();
    statement = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:o, s:s, s:s}", "type",
                          "civreg.link.v1", "uin", uin, "record_id", record_id, "record_version",
                          version, "record_hash", record_hash, "person_hash", person_hash,
                          "evidence", ev, "registrar", actor->username, "time", now);
    if (statement == NULL) {
        err_oom(err);
        goto out;
    }
    if (json_canonical(statement, &body, err) != 0)
        goto out;
    reg_sha256_hex(body.data, body.len, link_hash);
    if (unsigned_body) {
        /* signed later (reg_event_append_linked): a placeholder as long */
        memset(sig_hex, '0', 2 * REG_SIG_BYTES);
        sig_hex[2 * REG_SIG_BYTES] = '\0';
        buf_release(unsigned_body);
        *unsigned_body = body;
        body = (struct buf)BUF_INIT(64 * 1024);
    } else {
        reg_sign(actor->sk, body.data, body.len, sig);
        hex_encode(sig, sizeof sig, sig_hex);
    }
    *link = json_pack("{s:O, s:s, s:s}", "statement", statement, "signature", sig_hex, "signer",
                      actor->username);
    rc = *link ? 0 : err_oom(err);
out:
    json_decref(statement);
    buf_release(&body);
    return rc;
}

bool reg_link_signature_ok(const json_t *link, const unsigned char pk[REG_PK_BYTES])
{
    struct buf body = BUF_INIT(64 * 1024);
    unsigned char sig[REG_SIG_BYTES];
    const char *sig_hex = json_string_value(json_object_get(link, "signature"));
    size_t n = 0;
    bool ok = false;

    if (sig_hex && strlen(sig_hex) == 2 * REG_SIG_BYTES &&
        hex_decode(sig_hex, strlen(sig_hex), sig, sizeof sig, &n, NULL) == 0 &&
        n == REG_SIG_BYTES && json_canonical(json_object_get(link, "statement"), &body, NULL) == 0)
        ok = reg_sig_ok(pk, body.data, body.len, sig, sizeof sig);
    buf_release(&body);
    return ok;
}

int reg_link_store_signed(struct db *db, const char *uin, const char *record_id, int version,
                          const char *statement, const unsigned char sig[REG_SIG_BYTES],
                          const char *signer, uint64_t seq, struct err *err)
{
    return db_run(db,
                  "INSERT INTO person_links(uin, record_id, record_version, statement, signature,"
                  " signer, event_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                  "storing the link statement", err, "ssIsbsI", uin, record_id, (long long)version,
                  statement, sig, (size_t)REG_SIG_BYTES, signer, (long long)seq);
}

int reg_link_store(struct db *db, const json_t *link, uint64_t seq, struct err *err)
{
    const json_t *s = json_object_get(link, "statement");
    struct buf body = BUF_INIT(64 * 1024);
    unsigned char sig[REG_SIG_BYTES];
    const char *sig_hex = json_string_value(json_object_get(link, "signature"));
    size_t n = 0;
    int rc = -1;

    if (sig_hex == NULL || hex_decode(sig_hex, strlen(sig_hex), sig, sizeof sig, &n, err) != 0 ||
        n != sizeof sig || json_canonical(s, &body, err) != 0) {
        if (err && err->msg[0] == '\0')
            err_set(err, "link: damaged");
        goto out;
    }
    rc = reg_link_store_signed(db, json_string_value(json_object_get(s, "uin")),
                               json_string_value(json_object_get(s, "record_id")),
                               (int)json_integer_value(json_object_get(s, "record_version")),
                               buf_str(&body), sig, json_string_value(json_object_get(link, "signer")),
                               seq, err);
out:
    buf_release(&body);
    return rc;
}

/* A row of person_links (statement, signature, signer, the signer's public
 * key, event) with its signature checked. */
static int link_row(sqlite3_stmt *st, void *ctx, json_t **row, struct err *err)
{
    json_t *stmt = NULL;
    char sig_hex[2 * REG_SIG_BYTES + 1] = "";
    bool ok = false;

    (void)ctx;
    if (db_column_parse(st, 0, &stmt, err) != 0)
        return -1;
    if (sqlite3_column_bytes(st, 1) == REG_SIG_BYTES)
        hex_encode(sqlite3_column_blob(st, 1), REG_SIG_BYTES, sig_hex);
    if (sqlite3_column_bytes(st, 3) == REG_PK_BYTES && sqlite3_column_bytes(st, 1) == REG_SIG_BYTES)
        ok = reg_sig_ok(sqlite3_column_blob(st, 3), sqlite3_column_text(st, 0),
                        (size_t)sqlite3_column_bytes(st, 0), sqlite3_column_blob(st, 1),
                        REG_SIG_BYTES);
    *row = json_pack("{s:o, s:s, s:s, s:b, s:I}", "statement", stmt, "signature", sig_hex,
                     "signer", sqlite3_column_text(st, 2), "signature_valid", ok, "event",
                     (json_int_t)sqlite3_column_int64(st, 4));
    return 0;
}

int registry_person_show(struct db *db, const struct registry_actor *actor, const char *uin,
                         json_t **out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *p = NULL, *links = NULL, *record = NULL;
    int r, rc = -1;

    *out = NULL;
    if (registry_require_action(actor, "person.read", err) != 0)
        return -1;
    if (registry_uin_check(uin, err) != 0)
        return -1;
    r = db_query_row(db, &st,
                     "SELECT p.uin, p.record_id, b.registration_number, p.created_by, p.created_at"
                     " FROM persons p JOIN birth_records b ON b.id = p.record_id WHERE p.uin=?1",
                     "reading the person", err, "s", uin);
    if (r != 1) {
        if (r == 0)
            err_setk(err, ERR_NOT_FOUND, "no person with UIN %s", uin);
        goto out;
    }
    p = json_pack("{s:s, s:s, s:s?, s:s, s:s}", "uin", sqlite3_column_text(st, 0), "record_id",
                  sqlite3_column_text(st, 1), "registration_number", sqlite3_column_text(st, 2),
                  "created_by", sqlite3_column_text(st, 3), "created_at",
                  sqlite3_column_text(st, 4));
    if (p == NULL) {
        err_oom(err);
        goto out;
    }
    if (registry_record_show(db, actor, json_string_value(json_object_get(p, "record_id")), 0,
                             &record, err) != 0)
        goto out;
    reg_release(db, st);
    st = NULL;
    if (db_query_rows(db,
                      "SELECT l.statement, l.signature, l.signer, u.public_key, l.event_seq"
                      " FROM person_links l LEFT JOIN users u ON u.username = l.signer"
                      " WHERE l.uin=?1 ORDER BY l.record_version",
                      "reading links", link_row, NULL, &links, err, "s", uin) != 0)
        goto out;
    if (reg_death_annotate(db, uin, p, err) != 0)
        goto out;
    if (json_object_set(p, "record", record) != 0 || json_object_set(p, "links", links) != 0) {
        err_oom(err);
        goto out;
    }
    *out = p;
    p = NULL;
    rc = 0;
out:
    reg_release(db, st);
    json_decref(p);
    json_decref(links);
    json_decref(record);
    return rc;
}
