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
 * The cache is bounded; a full cache hands out uncached statements.
 *
 * Constant SQL keeps its address: a statement is found first by the address
 * of its text (then compared as text, so a buffer reused for other SQL is
 * never mistaken), and given back by its own address, each through a small
 * table, without hashing the text or scanning the entries; any miss falls
 * back to the hash and the scan. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "db.h"
#include "db_int.h"

#define STMT_CACHE_MAX 128
#define STMT_SLOTS 256 /* a power of two above STMT_CACHE_MAX */

struct stmt_entry {
    uint64_t hash;
    char *sql;
    const char *text; /* the address SQL was last asked for at */
    sqlite3_stmt *st;
    bool in_use;
};

struct db_stmt_cache {
    struct stmt_entry e[STMT_CACHE_MAX];
    size_t n;
    /* an entry's index + 1 (0: none) by the address of its text, and by
     * the address of its statement: hints, checked before use */
    uint8_t by_text[STMT_SLOTS];
    uint8_t by_stmt[STMT_SLOTS];
};

static size_t slot_of(const void *p)
{
    return (size_t)(((uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL) >> 56);
}

/* Entry I handed out for SQL. */
static sqlite3_stmt *entry_take(struct db_stmt_cache *c, size_t i, const char *sql)
{
    struct stmt_entry *e = &c->e[i];

    e->in_use = true;
    e->text = sql;
    c->by_text[slot_of(sql)] = (uint8_t)(i + 1);
    c->by_stmt[slot_of(e->st)] = (uint8_t)(i + 1);
    return e->st;
}

static void entry_free(struct stmt_entry *e)
{
    sqlite3_finalize(e->st);
    free(e->sql);
}

int db_stmt_cached(struct db *db, const char *sql, struct sqlite3_stmt **out, struct err *err)
{
    struct db_stmt_cache **slot = db_stmt_cache_slot(db), *c = *slot;
    uint64_t h;
    sqlite3_stmt *st = NULL;

    *out = NULL;
    if (c) {
        size_t k = c->by_text[slot_of(sql)];
        if (k > 0 && k <= c->n) {
            struct stmt_entry *e = &c->e[k - 1];
            if (e->text == sql && !e->in_use && strcmp(e->sql, sql) == 0) {
                *out = entry_take(c, k - 1, sql);
                return 0;
            }
        }
    }
    h = fnv1a_str(sql);
    if (c) {
        for (size_t i = 0; i < c->n; i++) {
            struct stmt_entry *e = &c->e[i];
            if (e->hash == h && !e->in_use && strcmp(e->sql, sql) == 0) {
                *out = entry_take(c, i, sql);
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
            (void)entry_take(c, c->n, sql);
            c->n++;
        }
    }
    *out = st;
    return 0;
}

void db_stmt_release(struct db *db, struct sqlite3_stmt *st)
{
    struct db_stmt_cache *c;
    size_t k;

    if (st == NULL)
        return;
    c = *db_stmt_cache_slot(db);
    if (c == NULL) {
        sqlite3_finalize(st);
        return;
    }
    k = c->by_stmt[slot_of(st)];
    if (k == 0 || k > c->n || c->e[k - 1].st != st)
        for (k = 1; k <= c->n && c->e[k - 1].st != st; k++)
            ;
    if (k <= c->n) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        c->e[k - 1].in_use = false;
        c->by_stmt[slot_of(st)] = (uint8_t)k;
        return;
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
    /* the indexes moved */
    memset(c->by_text, 0, sizeof c->by_text);
    memset(c->by_stmt, 0, sizeof c->by_stmt);
}

void db_stmt_cache_free(struct db_stmt_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        entry_free(&c->e[i]);
    free(c);
}
