/* civreg db: internals shared by the files of db/ (not API). */
#ifndef CIVREG_DB_INT_H
#define CIVREG_DB_INT_H

#include <stdint.h>

#include "db.h"

struct db_stmt_cache;

/* The connection's statement cache (NULL until the first cached statement). */
struct db_stmt_cache **db_stmt_cache_slot(struct db *db);

/* Finalize every cached statement and free the cache; NULL is a no-op. */
void db_stmt_cache_free(struct db_stmt_cache *c);

/* Inside a transaction, whether it can no longer commit: SQLite rolled it
 * back by itself (I/O error, interrupt, out of memory), or a savepoint
 * could not be rolled back (db_tx_commit would then refuse). */
bool db_tx_broken(struct db *db);

/* The checkpointer (checkpointer.c): a thread with a connection of its own
 * to the database at PATH that runs passive checkpoints when a writer asks.
 * db_checkpointer_new returns NULL only without memory; without the
 * connection or the thread (logged) the writer checkpoints itself. Free
 * with db_checkpointer_free (joins the thread; NULL is a no-op) once the
 * writer has stopped. */
struct db_checkpointer;
struct db_checkpointer *db_checkpointer_new(const char *path);
/* After a commit of WRITER that left FRAMES frames in the WAL: a checkpoint
 * asked for once 1,000 frames were added since the last request, or run on
 * WRITER itself past 10,000 frames or without a checkpointer (C NULL or
 * not started). Called by the writer's thread only. */
void db_checkpointer_committed(struct db_checkpointer *c, struct db *writer, int frames);
/* Checkpoints the thread has run (0 for NULL). */
unsigned long db_checkpointer_count(struct db_checkpointer *c);
void db_checkpointer_free(struct db_checkpointer *c);

/* The time-ordered part of db_id_new's identifiers (sql.c, sql.h): the
 * last one made, 48 bits of milliseconds since the Unix epoch then a 32-bit
 * counter; zero before the first. */
#define DB_ID_HEX 20
#define DB_ID_MS_MAX UINT64_C(0xffffffffffff)
struct db_id_clock {
    uint64_t ms;
    uint32_t seq;
};
/* The id part after LAST for a clock that reads NOW_MS: a later
 * millisecond than LAST's starts at RANDOM32's counter, any other (the same
 * or earlier) takes LAST plus one; LAST becomes it, written to HEX as
 * DB_ID_HEX lowercase hex digits and a NUL. The caller serializes calls. */
void db_id_next(struct db_id_clock *last, uint64_t now_ms, uint32_t (*random32)(void),
                char hex[DB_ID_HEX + 1]);

#endif
