/* civreg registry: the tables as a projection of the signed log.
 *
 * `audit verify` rebuilds, from the signed events alone, every row of every
 * table the events define, in tables of the same name in an attached
 * temporary database, then compares every column with what is stored. Each
 * module describes its tables (struct proj_table) and gives one handler per
 * event type (struct proj_handler); the comparison is generic, driven by the
 * schema (PRAGMA table_info), so a column that no handler produces and no
 * table lists as deliberately excluded is itself reported.
 *
 * Rows are JSON objects column -> value: a string is TEXT, an integer
 * INTEGER, null NULL, true/false 1/0, {"$blob": "<hex>"} a BLOB, and
 * proj_unknown() a value the log does not say (that column of that row is
 * not compared; e.g. the time columns of version-1 events). */
#ifndef CIVREG_REGISTRY_PROJECTION_H
#define CIVREG_REGISTRY_PROJECTION_H

#include <stddef.h>
#include <stdint.h>

#include "core/json.h"

struct proj;

/* One signed, verified event as the handlers see it. V is the envelope
 * version: from 2 on, TIME is the time the event's rows were written with. */
struct proj_event {
    uint64_t seq;
    int v;
    const char *type, *actor, *office, *time;
    const json_t *objects; /* [{kind, id, hash?, prev?}] */
    const json_t *data;
};

typedef void (*proj_handler_fn)(struct proj *p, const struct proj_event *ev);

struct proj_handler {
    const char *type; /* event type, e.g. "record.draft" */
    proj_handler_fn fn;
};

/* A table the log defines. COLUMNS: the columns the handlers produce
 * (comma-separated, primary key first as in the schema); EXCLUDED:
 * "column: why; column: why" for columns deliberately not in the log;
 * CONTENT/CONTENT_HASH: a column checked through its SHA-256 (hex), which
 * the log holds in column CONTENT_HASH (NULL when none). */
struct proj_table {
    const char *name;
    const char *columns;
    const char *excluded;
    const char *content, *content_hash;
};

/* A module's part of the projection: its tables, its handlers, and an
 * optional pass after the replay (e.g. columns derived from content whose
 * hash the log signed). */
struct proj_module {
    const char *name;
    const struct proj_table *tables;
    size_t n_tables;
    const struct proj_handler *handlers;
    size_t n_handlers;
    void (*after_replay)(struct proj *p);
};

/* A struct proj_module initializer from NAME, the arrays TABLES and
 * HANDLERS, and AFTER_REPLAY (or NULL). */
#define PROJ_MODULE(name, tables, handlers, after_replay)                                          \
    { (name), (tables), sizeof(tables) / sizeof(tables)[0], (handlers),                            \
      sizeof(handlers) / sizeof(handlers)[0], (after_replay) }

/* Register a higher module's projection (issuance's passport office and
 * PKI) with `audit verify`. Called once at start-up, before threads start;
 * at most 8. */
void registry_audit_register(const struct proj_module *m);

/* Set the columns of ROW (which holds the table's primary key) in the
 * expected TABLE, creating the row when missing. A column that the table
 * does not declare as produced is reported as a problem of the audit. */
void proj_put(struct proj *p, const char *table, const json_t *row);
/* The same, taking ROW's reference. */
void proj_put_new(struct proj *p, const char *table, json_t *row);

/* The expected row of TABLE whose primary key is in KEY, as JSON (new
 * reference) or NULL when the log made none. */
json_t *proj_get(struct proj *p, const char *table, const json_t *key);

/* A value the log does not say (new reference). */
json_t *proj_unknown(void);

/* Report a problem (counted; audit verify then exits 1). */
void proj_problem(struct proj *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The stored value of COLUMN in the row of TABLE keyed by KEY, as JSON
 * (new reference; NULL when no such row). Only for content the log signed
 * by hash: check it against the hash before trusting it. */
json_t *proj_stored(struct proj *p, const char *table, const json_t *key, const char *column);

/* The event's time for its rows: TIME from version 2 on, else unknown
 * (new reference). */
json_t *proj_time(const struct proj_event *ev);

/* A JSON object MODULE's handlers share for the length of one audit (e.g.
 * a counter, or hashes for its after-replay pass); borrowed, freed with the
 * audit. NULL only when out of memory. */
json_t *proj_state(struct proj *p, const char *module);

/* The text at K in the event's object O (its data, one of its objects), ""
 * when missing or not a string (borrowed). */
const char *proj_str(const json_t *o, const char *k);

/* The N-th (from 0) object of KIND the event names (borrowed; NULL when
 * none). */
const json_t *proj_object(const struct proj_event *ev, const char *kind, size_t n);
/* That object's id (NULL when none). */
const char *proj_object_id(const struct proj_event *ev, const char *kind, size_t n);

/* Report that the event lacks the object WHAT it must name ("event N: TYPE
 * names no WHAT"). */
void proj_names_none(struct proj *p, const struct proj_event *ev, const char *what);

#endif
