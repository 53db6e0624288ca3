/* civreg db: group commit. Concurrent writers hand their write to one
 * writer thread that owns a connection; it takes every pending write, runs
 * them in one transaction (BEGIN IMMEDIATE, each write in a savepoint of
 * its own), commits once (one fsync for the lot) and then wakes each caller
 * with its own result. A caller returns only once its write is durable or
 * has failed; a write that fails is rolled back alone, the others of its
 * group commit. A second thread, on a connection of its own, copies the
 * WAL back into the database (a passive checkpoint) when the writer asks,
 * while the writer goes on with the next group.
 *
 * The writes run on the group's connection, in the writer thread: FN must
 * not touch the caller's own connection, and what ARG points to stays the
 * caller's (it is blocked until FN has run). A savepoint per write makes
 * FTS5 flush its pending terms into a new segment per write (see
 * docs/performance.md, round 5b): fine for writes that touch no FTS5
 * table (the record.view event), a cost for those that do. */
#ifndef CIVREG_DB_GROUP_H
#define CIVREG_DB_GROUP_H

#include "db.h"

struct db_group;

/* A write: 0 on success, -1 with ERR set (its savepoint is then rolled
 * back). AFTER (may be NULL) runs in the writer thread after the commit
 * that made the write durable, once per group for each distinct AFTER
 * (with the ARG of the group's last successful write that named it). */
typedef int (*db_group_fn)(struct db *db, void *arg, struct err *err);
typedef void (*db_group_after_fn)(struct db *db, void *arg);

/* Start the writer on DB (taken: closed by db_group_free, even on
 * failure). At most QUEUE_MAX writes wait at once; a caller finding the
 * queue full waits up to WAIT_MS for room, then fails with ERR_BUSY.
 * *OUT is freed with db_group_free. */
int db_group_new(struct db *db, unsigned queue_max, unsigned wait_ms, struct db_group **out,
                 struct err *err) __attribute__((warn_unused_result));

/* Run FN(db, ARG) in the next group and wait until it is durable (0) or
 * failed (-1, ERR set with FN's message or the commit's). Thread-safe. */
int db_group_run(struct db_group *g, db_group_fn fn, db_group_after_fn after, void *arg,
                 struct err *err) __attribute__((warn_unused_result));

/* Counters since db_group_new: writes run and transactions committed. */
void db_group_stats(struct db_group *g, unsigned long *writes, unsigned long *commits);

/* Checkpoints run by the group's checkpointer thread since db_group_new
 * (the WAL is copied back once it holds 1,000 frames). */
unsigned long db_group_checkpoints(struct db_group *g);

/* Run the writes still queued, stop the writer, close its connection.
 * Call once no db_group_run can start any more. NULL is a no-op. */
void db_group_free(struct db_group *g);

#endif
