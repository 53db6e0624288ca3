/* civreg national tier: the district's blocks of national UINs.
 *
 * The national tier reserves random Verhoeff-valid UINs nationally (the
 * primary key of its `uins` table) and hands an office a block on a signed
 * request; the district stores the block in `uin_pool` and registration
 * draws from it offline (registry/persons.c). An office that holds a block
 * never draws a UIN of its own again, so no two offices can assign the same
 * number: the national tier refuses at sync any UIN reserved for another
 * office (accept.c). */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "national_int.h"

int national_uin_pool_count(struct db *db, uint64_t *unused, uint64_t *total, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;

    *unused = *total = 0;
    if (db_prepare(db, &st,
                   "SELECT count(*), coalesce(sum(used_at IS NULL), 0) FROM uin_pool", err) != 0)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *total = (uint64_t)sqlite3_column_int64(st, 0);
        *unused = (uint64_t)sqlite3_column_int64(st, 1);
        rc = 0;
    } else {
        err_set(err, "uin pool: cannot count the national UINs held");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Store the UINs of a block answer, all or none. */
static int pool_store(struct db *db, const json_t *resp, int *received, struct err *err)
{
    const json_t *uins = json_object_get(resp, "uins"), *u;
    const char *block = nat_str(resp, "block");
    sqlite3_stmt *st = NULL;
    char now[32];
    size_t i;
    int rc = -1;

    if (!json_is_array(uins) || json_array_size(uins) == 0)
        return err_set(err, "uin block: the national tier sent no UINs");
    json_array_foreach(uins, i, u) {
        if (registry_uin_check(json_string_value(u), err) != 0)
            return err_prefix(err, "uin block: the national tier sent an invalid UIN");
    }
    if (reg_now(now, err) != 0 || db_tx_begin(db, err) != 0)
        return -1;
    if (db_prepare(db, &st,
                   "INSERT OR IGNORE INTO uin_pool(uin, block, received_at) VALUES (?1, ?2, ?3)",
                   err) != 0)
        goto out;
    *received = 0;
    json_array_foreach(uins, i, u) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, json_string_value(u), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, block[0] ? block : "?", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) {
            err_set(err, "uin block: storing %s: %s", json_string_value(u),
                    sqlite3_errmsg(sqlite3_db_handle(st)));
            goto out;
        }
        *received += sqlite3_changes(sqlite3_db_handle(st));
    }
    sqlite3_finalize(st);
    st = NULL;
    if (db_tx_commit(db, err) != 0)
        goto out;
    rc = 0;
out:
    sqlite3_finalize(st);
    if (rc != 0)
        db_tx_rollback(db);
    return rc;
}

int national_uin_block_fetch(struct national_client *c, struct db *db, int count, int *received,
                             struct err *err)
{
    json_t *resp = NULL;
    int rc = -1;

    *received = 0;
    if (nat_client_call(c, "/national/v1/uin-block", json_pack("{s:i}", "count", count),
                        "uin block refused", &resp, err) != 0)
        return -1;
    if (strcmp(nat_str(resp, "office"), c->office) != 0)
        err_set(err, "uin block: the answer is for office '%s', not %s", nat_str(resp, "office"),
                c->office);
    else
        rc = pool_store(db, resp, received, err);
    json_decref(resp);
    return rc;
}

int national_uin_topup(struct national_client *c, struct db *db, int low, int count,
                       int *received, struct err *err)
{
    uint64_t unused = 0, total = 0;

    *received = 0;
    if (national_uin_pool_count(db, &unused, &total, err) != 0)
        return -1;
    /* an office that never asked for a block draws its own UINs */
    if (total == 0 || unused >= (uint64_t)low)
        return 0;
    return national_uin_block_fetch(c, db, count, received, err);
}
