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
#include "db/rows.h"
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

struct pool_block {
    const json_t *uins;
    const char *block;
    char now[32];
    int received;
};

static int pool_store_tx(struct db *db, void *arg, struct err *err)
{
    struct pool_block *pb = arg;
    const json_t *u;
    size_t i;

    pb->received = 0;
    json_array_foreach(pb->uins, i, u) {
        if (db_run(db,
                   "INSERT OR IGNORE INTO uin_pool(uin, block, received_at) VALUES (?1, ?2, ?3)",
                   "uin pool", err, "sss", json_string_value(u), pb->block[0] ? pb->block : "?",
                   pb->now) != 0)
            return err_prefix(err, "uin block: storing %s", json_string_value(u));
        pb->received += db_rows_changed(db);
    }
    return 0;
}

/* Store the UINs of a block answer, all or none. */
static int pool_store(struct db *db, const json_t *resp, int *received, struct err *err)
{
    struct pool_block pb = { json_object_get(resp, "uins"), nat_str(resp, "block"), "", 0 };
    const json_t *u;
    size_t i;

    if (!json_is_array(pb.uins) || json_array_size(pb.uins) == 0)
        return err_set(err, "uin block: the national tier sent no UINs");
    json_array_foreach(pb.uins, i, u) {
        if (registry_uin_check(json_string_value(u), err) != 0)
            return err_prefix(err, "uin block: the national tier sent an invalid UIN");
    }
    if (reg_now(pb.now, err) != 0 || db_tx_run(db, pool_store_tx, &pb, err) != 0)
        return -1;
    *received = pb.received;
    return 0;
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
