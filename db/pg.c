/* civreg db: PostgreSQL through libpq (see pg.h). */
#include "db/pg.h"

#include <libpq-fe.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/embed.h"
#include "core/encode.h"
#include "core/log.h"

/* Generated from db/national/ by cmake/embed.cmake. */
extern const struct embedded_file db_national_migration_files[];
extern const size_t db_national_migration_files_count;

#define PG_STMT_MAX 128

struct pg_stmt {
    const char *sql; /* the caller's constant text: compared by content */
    char name[24]; /* "civreg" and any int */
};

struct pg {
    PGconn *conn;
    struct pg_stmt stmts[PG_STMT_MAX];
    int n_stmts;
    unsigned long long round_trips; /* statements, COPYs, BEGIN/COMMIT sent */
};

struct pg_res {
    PGresult *r;
};

/* Server notices ("relation already exists, skipping") are not errors. */
static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("postgresql: %s", message);
}

static int pg_fail(struct pg *pg, const char *what, struct err *err)
{
    const char *m = PQerrorMessage(pg->conn);
    size_t n = strlen(m);

    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
        n--;
    return err_set(err, "postgresql: %s: %.*s", what, (int)n, m);
}

static int res_fail(PGresult *r, const char *what, struct err *err)
{
    const char *m = PQresultErrorMessage(r);
    size_t n = strlen(m);

    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
        n--;
    return err_set(err, "postgresql: %s: %.*s", what, (int)n, m);
}

int pg_open(const char *url, struct pg **out, struct err *err)
{
    struct pg *pg;

    *out = NULL;
    if ((pg = calloc(1, sizeof *pg)) == NULL)
        return err_oom(err);
    pg->conn = PQconnectdb(url);
    if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
        if (pg->conn)
            pg_fail(pg, "connecting", err);
        else
            err_set(err, "postgresql: connecting: out of memory");
        pg_close(pg);
        return -1;
    }
    PQsetNoticeProcessor(pg->conn, quiet_notice, NULL);
    *out = pg;
    return 0;
}

void pg_close(struct pg *pg)
{
    if (pg == NULL)
        return;
    if (pg->conn)
        PQfinish(pg->conn);
    free(pg);
}

/* The name of SQL's prepared statement on this connection, preparing it the
 * first time. */
static const char *prepared(struct pg *pg, const char *sql, int n, struct err *err)
{
    struct pg_stmt *s;
    PGresult *r;

    for (int i = 0; i < pg->n_stmts; i++)
        if (pg->stmts[i].sql == sql || strcmp(pg->stmts[i].sql, sql) == 0)
            return pg->stmts[i].name;
    if (pg->n_stmts >= PG_STMT_MAX) {
        err_set(err, "postgresql: more than %d distinct statements", PG_STMT_MAX);
        return NULL;
    }
    s = &pg->stmts[pg->n_stmts];
    (void)snprintf(s->name, sizeof s->name, "civreg%d", pg->n_stmts);
    r = PQprepare(pg->conn, s->name, sql, n, NULL);
    if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
        if (r)
            res_fail(r, "preparing a statement", err);
        else
            pg_fail(pg, "preparing a statement", err);
        PQclear(r);
        return NULL;
    }
    PQclear(r);
    s->sql = sql;
    pg->n_stmts++;
    return s->name;
}

int pg_exec(struct pg *pg, const char *sql, int n, const char *const *params,
            struct pg_res **res, struct err *err)
{
    const char *name;
    PGresult *r;
    ExecStatusType st;

    if (res)
        *res = NULL;
    if ((name = prepared(pg, sql, n, err)) == NULL)
        return -1;
    pg->round_trips++;
    r = PQexecPrepared(pg->conn, name, n, params, NULL, NULL, 0);
    if (r == NULL)
        return pg_fail(pg, "running a statement", err);
    st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        res_fail(r, "running a statement", err);
        PQclear(r);
        return -1;
    }
    if (res) {
        if ((*res = malloc(sizeof **res)) == NULL) {
            PQclear(r);
            return err_oom(err);
        }
        (*res)->r = r;
    } else {
        PQclear(r);
    }
    return 0;
}

unsigned long long pg_round_trips(const struct pg *pg)
{
    return pg->round_trips;
}

int pg_res_rows(const struct pg_res *r)
{
    return r ? PQntuples(r->r) : 0;
}

const char *pg_res_value(const struct pg_res *r, int row, int col)
{
    return PQgetvalue(r->r, row, col);
}

bool pg_res_null(const struct pg_res *r, int row, int col)
{
    return PQgetisnull(r->r, row, col) != 0;
}

long long pg_res_affected(const struct pg_res *r)
{
    const char *s = PQcmdTuples(r->r);
    return s && *s ? strtoll(s, NULL, 10) : 0;
}

void pg_res_free(struct pg_res *r)
{
    if (r == NULL)
        return;
    PQclear(r->r);
    free(r);
}

/* Constant transaction-control text; PQexec has no parameters to bind. */
static int simple(struct pg *pg, const char *sql, struct err *err)
{
    PGresult *r = (pg->round_trips++, PQexec(pg->conn, sql));
    int rc = 0;

    if (r == NULL)
        return pg_fail(pg, sql, err);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = res_fail(r, sql, err);
    PQclear(r);
    return rc;
}

int pg_begin(struct pg *pg, struct err *err)
{
    return simple(pg, "BEGIN", err);
}

int pg_commit(struct pg *pg, struct err *err)
{
    return simple(pg, "COMMIT", err);
}

void pg_rollback(struct pg *pg)
{
    if (PQtransactionStatus(pg->conn) != PQTRANS_IDLE)
        (void)simple(pg, "ROLLBACK", NULL);
}

int pg_copy(struct pg *pg, const char *copy_sql, const char *data, size_t len, struct err *err)
{
    PGresult *r = (pg->round_trips++, PQexec(pg->conn, copy_sql));
    int rc = -1;

    if (r == NULL)
        return pg_fail(pg, "starting COPY", err);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        res_fail(r, "starting COPY", err);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    while (len > 0) {
        int chunk = len > (1u << 20) ? (1 << 20) : (int)len;
        if (PQputCopyData(pg->conn, data, chunk) != 1) {
            pg_fail(pg, "sending COPY data", err);
            (void)PQputCopyEnd(pg->conn, "failed");
            goto drain;
        }
        data += chunk;
        len -= (size_t)chunk;
    }
    if (PQputCopyEnd(pg->conn, NULL) != 1) {
        pg_fail(pg, "ending COPY", err);
        goto drain;
    }
    rc = 0;
drain:
    while ((r = PQgetResult(pg->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0)
            rc = res_fail(r, "COPY", err);
        PQclear(r);
    }
    return rc;
}

/* Nonzero when one of the 8 bytes of W is a byte COPY's text format escapes
 * here (backslash, or below 0x0e: tab, newline, carriage return, and a few
 * that pass through unescaped, which the byte loop then sorts out). */
static uint64_t copy_special8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t bs = w ^ (ones * '\\');

    return (((bs - ones) & ~bs) | ((w - ones * 0x0e) & ~w)) & highs;
}

int pg_copy_field(struct buf *out, const char *s, size_t len)
{
    size_t start = 0, i = 0;

    /* the text between escapes, eight bytes a step (an event body or a
     * record version, about a kilobyte, has a handful at most) */
    for (;;) {
        uint64_t w;
        while (i + 8 <= len) {
            memcpy(&w, s + i, 8);
            if (copy_special8(w))
                break;
            i += 8;
        }
        if (i >= len)
            break;
        const char *esc = NULL;
        switch (s[i]) {
        case '\\': esc = "\\\\"; break;
        case '\t': esc = "\\t"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        default: i++; continue;
        }
        if (buf_append(out, s + start, i - start) != 0 || buf_append(out, esc, 2) != 0)
            return -1;
        start = ++i;
    }
    return buf_append(out, s + start, len - start);
}

static int migration_version(const char *name)
{
    int v = 0;

    for (int i = 0; i < 4; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    return name[4] == '_' ? v : -1;
}

int pg_migrate(struct pg *pg, int *version, struct err *err)
{
    struct pg_res *r = NULL;
    int have = 0, rc = -1;

    if (simple(pg,
               "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
               " name text NOT NULL, sha256 text NOT NULL,"
               " applied_at timestamptz NOT NULL DEFAULT now())",
               err) != 0)
        return -1;
    /* one migrator at a time: a second `national init` waits here */
    if (pg_begin(pg, err) != 0)
        return -1;
    if (pg_exec(pg, "SELECT pg_advisory_xact_lock(7130001)", 0, NULL, NULL, err) != 0 ||
        pg_exec(pg, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL, &r,
                err) != 0)
        goto out;
    have = (int)strtol(pg_res_value(r, 0, 0), NULL, 10);
    if (have > (int)db_national_migration_files_count) {
        err_set(err, "national database: schema version %d is newer than this civreg knows (%zu):"
                     " upgrade civreg", have, db_national_migration_files_count);
        goto out;
    }
    for (size_t i = 0; i < db_national_migration_files_count; i++) {
        const struct embedded_file *f = &db_national_migration_files[i];
        int v = migration_version(f->name);
        unsigned char h[32];
        char hex[65], vs[16];
        const char *p[3];
        if (v != (int)i + 1) {
            err_set(err, "national migration %s is out of sequence", f->name);
            goto out;
        }
        if (v <= have)
            continue;
        crypto_hash_sha256(h, f->data, f->len);
        hex_encode(h, sizeof h, hex);
        (void)snprintf(vs, sizeof vs, "%d", v);
        p[0] = vs, p[1] = f->name, p[2] = hex;
        if (simple(pg, (const char *)f->data, err) != 0) {
            err_prefix(err, "national migration %s", f->name);
            goto out;
        }
        if (pg_exec(pg, "INSERT INTO schema_migrations(version, name, sha256) VALUES ($1, $2, $3)",
                    3, p, NULL, err) != 0)
            goto out;
        log_info("national: applied migration %s", f->name);
        have = v;
    }
    if (pg_commit(pg, err) != 0)
        goto out;
    if (version)
        *version = have;
    rc = 0;
out:
    pg_res_free(r);
    if (rc != 0)
        pg_rollback(pg);
    return rc;
}

int pg_in_recovery(struct pg *pg, bool *standby, struct err *err)
{
    struct pg_res *r = NULL;

    if (pg_exec(pg, "SELECT pg_is_in_recovery()", 0, NULL, &r, err) != 0)
        return -1;
    *standby = strcmp(pg_res_value(r, 0, 0), "t") == 0;
    pg_res_free(r);
    return 0;
}
