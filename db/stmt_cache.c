/* civreg db: the per-connection statement cache.
 *
 * Preparing a statement (tokenizing, parsing, planning) costs more than
 * running most of the small statements civreg runs: on the registration
 * path it was a quarter of the CPU time (docs/performance.md). The hot paths
 * take their statements from this cache instead: each constant SQL text is
 * prepared once per connection and reset after each use.
 *
 * A statement checked out and not yet released (a caller iterating rows
 * while it calls code that asks for the same SQL) is never handed out twice:
 * the second caller gets a fresh statement that db_stmt_release finalizes.
 * The cache is bounded; a full cache hands out uncached statements. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_int.h"

#define STMT_CACHE_MAX 128

struct stmt_entry {
    uint64_t hash;
    char *sql;
    sqlite3_stmt *st;
    bool in_use;
};

struct db_stmt_cache {
    struct stmt_entry e[STMT_CACHE_MAX];
    size_t n;
};

static void entry_free(struct stmt_entry *e)
{
    sqlite3_finalize(e->st);
    free(e->sql);
}

static uint64_t sql_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

int db_stmt_cached(struct db *db, const char *sql, struct sqlite3_stmt **out, struct err *err)
{
    struct db_stmt_cache **slot = db_stmt_cache_slot(db), *c = *slot;
    uint64_t h = sql_hash(sql);
    sqlite3_stmt *st = NULL;

    *out = NULL;
    if (c) {
        for (size_t i = 0; i < c->n; i++) {
            struct stmt_entry *e = &c->e[i];
            if (e->hash == h && !e->in_use && strcmp(e->sql, sql) == 0) {
                e->in_use = true;
                *out = e->st;
                return 0;
            }
        }
    } else if ((c = *slot = calloc(1, sizeof *c)) == NULL) {
        return err_set(err, "db: out of memory");
    }
    if (sqlite3_prepare_v3(db_handle(db), sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
        SQLITE_OK) {
        err_set(err, "db: preparing a statement: %s", sqlite3_errmsg(db_handle(db)));
        sqlite3_finalize(st);
        return -1;
    }
    if (c->n < STMT_CACHE_MAX) {
        struct stmt_entry *e = &c->e[c->n];
        e->sql = strdup(sql);
        if (e->sql != NULL) {
            e->hash = h;
            e->st = st;
            e->in_use = true;
            c->n++;
        }
    }
    *out = st;
    return 0;
}

void db_stmt_release(struct db *db, struct sqlite3_stmt *st)
{
    struct db_stmt_cache *c;

    if (st == NULL)
        return;
    c = *db_stmt_cache_slot(db);
    for (size_t i = 0; c && i < c->n; i++) {
        if (c->e[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            c->e[i].in_use = false;
            return;
        }
    }
    sqlite3_finalize(st); /* handed out uncached */
}

void db_stmt_cache_clear(struct db *db)
{
    struct db_stmt_cache *c = *db_stmt_cache_slot(db);
    size_t kept = 0;

    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        if (c->e[i].in_use) {
            c->e[kept++] = c->e[i]; /* its holder releases it later */
            continue;
        }
        entry_free(&c->e[i]);
    }
    c->n = kept;
}

void db_stmt_cache_free(struct db_stmt_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        entry_free(&c->e[i]);
    free(c);
}
