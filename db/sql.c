/* civreg db: statement helpers, identifiers and numbered series. */
#include "sql.h"

#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/secret.h"
#include "core/timeutil.h"
#include "db.h"
#include "db_int.h"

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

/* The last id of this process (db_id_new), behind ID_LOCK; reset in a
 * child forked without exec, whose ids must not count on from its parent's
 * (both would then make the same ones). */
static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t id_once = PTHREAD_ONCE_INIT;
static struct db_id_clock id_last;

static void id_fork_prepare(void)
{
    pthread_mutex_lock(&id_lock);
}

static void id_fork_parent(void)
{
    pthread_mutex_unlock(&id_lock);
}

/* The child's one thread is the one that took the lock in id_fork_prepare. */
static void id_fork_child(void)
{
    memset(&id_last, 0, sizeof id_last);
    pthread_mutex_unlock(&id_lock);
}

static void id_register_fork(void)
{
    (void)pthread_atfork(id_fork_prepare, id_fork_parent, id_fork_child);
}

static uint32_t id_random32(void)
{
    uint32_t r;

    secret_random(&r, sizeof r);
    return r;
}

void db_id_next(struct db_id_clock *last, uint64_t now_ms, uint32_t (*random32)(void),
                char hex[DB_ID_HEX + 1])
{
    if (now_ms > DB_ID_MS_MAX)
        now_ms = DB_ID_MS_MAX;
    /* RFC 9562 §6.2 method 1 with a random start: a later millisecond
     * starts at a random counter; the same one, or a clock stepped back,
     * counts on from the last id, the carry into the time part, so that no
     * id of this process is ever lower than or equal to an earlier one. */
    if (now_ms > last->ms) {
        last->ms = now_ms;
        last->seq = random32();
    } else if (++last->seq == 0) {
        last->ms++;
    }
    (void)snprintf(hex, DB_ID_HEX + 1, "%012" PRIx64 "%08" PRIx32, last->ms & DB_ID_MS_MAX,
                   last->seq);
}

void db_id_new(const char *office, char kind, char out[DB_ID_MAX])
{
    char hex[DB_ID_HEX + 1];
    struct timespec ts = time_after_ms(CLOCK_REALTIME, 0);
    uint64_t now_ms = 0;

    (void)pthread_once(&id_once, id_register_fork);
    if (ts.tv_sec > 0)
        now_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    pthread_mutex_lock(&id_lock);
    db_id_next(&id_last, now_ms, id_random32, hex);
    pthread_mutex_unlock(&id_lock);
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
