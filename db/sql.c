/* civreg db: statement helpers, identifiers and numbered series. */
#include "sql.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "core/secret.h"
#include "db.h"

int db_prepare(struct db *db, sqlite3_stmt **st, const char *sql, struct err *err)
{
    sqlite3 *h = db_handle(db);

    *st = NULL;
    if (sqlite3_prepare_v2(h, sql, -1, st, NULL) != SQLITE_OK)
        return err_set(err, "db: %s", sqlite3_errmsg(h));
    return 0;
}

int db_sql_fail(struct db *db, const char *what, struct err *err)
{
    return err_setk(err, db_error_kind(db), "db: %s: %s", what, sqlite3_errmsg(db_handle(db)));
}

int db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

char *db_column_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

void db_id_new(const char *office, char kind, char out[DB_ID_MAX])
{
    unsigned char rnd[10];
    char hex[21];

    secret_random(rnd, sizeof rnd);
    hex_encode(rnd, sizeof rnd, hex);
    /* an office code is at most 8 characters (civreg.conf): never cut */
    (void)snprintf(out, DB_ID_MAX, "%.8s-%c-%s", office ? office : "XX", kind, hex);
}

/* One statement per series: each increments its counter and returns the
 * number taken, in one step (no read-then-write race between writers);
 * SET_SQL: a counter advanced in memory written back (db_series_take). */
static const struct {
    const char *sql;
    const char *what;
    const char *set_sql;
} series_sql[] = {
    [DB_SERIES_REGISTRATION] = {
        "INSERT INTO registration_counters(office, year, last) VALUES (?1, ?2, 1)"
        " ON CONFLICT(office, year) DO UPDATE SET last = last + 1 RETURNING last",
        "allocating a registration number",
        "UPDATE registration_counters SET last = ?3 WHERE office = ?1 AND year = ?2" },
    [DB_SERIES_DEATH] = {
        "INSERT INTO death_counters(office, year, last) VALUES (?1, ?2, 1)"
        " ON CONFLICT(office, year) DO UPDATE SET last = last + 1 RETURNING last",
        "allocating a death registration number",
        "UPDATE death_counters SET last = ?3 WHERE office = ?1 AND year = ?2" },
    [DB_SERIES_DOCUMENT] = {
        "UPDATE doc_number_series SET next_seq = next_seq + 1 WHERE doc_type = ?1"
        " RETURNING next_seq - 1",
        "number series", NULL },
};

int db_series_next(struct db *db, enum db_series series, const char *key, int year,
                   long long *n, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = -1, s;

    if ((size_t)series >= sizeof series_sql / sizeof series_sql[0])
        return err_set(err, "db: unknown number series");
    if (db_stmt_cached(db, series_sql[series].sql, &st, err) != 0)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (series != DB_SERIES_DOCUMENT)
        sqlite3_bind_int(st, 2, year);
    s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *n = sqlite3_column_int64(st, 0);
        rc = 0;
    } else if (s == SQLITE_DONE) {
        err_set(err, "db: %s: no series '%s'", series_sql[series].what, key);
    } else {
        db_sql_fail(db, series_sql[series].what, err);
    }
    db_stmt_release(db, st);
    return rc;
}

int db_series_take(struct db *db, struct db_series_cache *cache, enum db_series series,
                   const char *key, int year, long long *n, struct err *err)
{
    size_t i;

    if ((size_t)series >= sizeof series_sql / sizeof series_sql[0] ||
        series_sql[series].set_sql == NULL || strlen(key) >= sizeof cache->e[0].key)
        return db_series_next(db, series, key, year, n, err);
    for (i = 0; i < cache->n; i++)
        if (cache->e[i].series == series && cache->e[i].year == year &&
            strcmp(cache->e[i].key, key) == 0) {
            *n = ++cache->e[i].last;
            return 0;
        }
    if (db_series_next(db, series, key, year, n, err) != 0)
        return -1;
    if (cache->n < sizeof cache->e / sizeof cache->e[0]) {
        cache->e[i].series = series;
        (void)snprintf(cache->e[i].key, sizeof cache->e[i].key, "%s", key);
        cache->e[i].year = year;
        cache->e[i].last = cache->e[i].stored = *n;
        cache->n++;
    }
    return 0;
}

int db_series_cache_write(struct db *db, struct db_series_cache *cache, struct err *err)
{
    for (size_t i = 0; i < cache->n; i++) {
        sqlite3_stmt *st = NULL;
        int s;
        if (cache->e[i].last == cache->e[i].stored)
            continue;
        if (db_stmt_cached(db, series_sql[cache->e[i].series].set_sql, &st, err) != 0)
            return -1;
        sqlite3_bind_text(st, 1, cache->e[i].key, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, cache->e[i].year);
        sqlite3_bind_int64(st, 3, cache->e[i].last);
        s = sqlite3_step(st);
        if (s != SQLITE_DONE)
            db_sql_fail(db, series_sql[cache->e[i].series].what, err);
        db_stmt_release(db, st);
        if (s != SQLITE_DONE)
            return -1;
        cache->e[i].stored = cache->e[i].last;
    }
    return 0;
}
