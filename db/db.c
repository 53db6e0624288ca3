#include "db.h"
#include "db_int.h"
#include "rows.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/embed.h"
#include "core/encode.h"
#include "core/log.h"
#include "core/timeutil.h"

#include <sodium.h>

/* Generated from db/migrations/ by cmake/embed.cmake. */
extern const struct embedded_file db_migration_files[];
extern const size_t db_migration_files_count;

#define DB_BUSY_TIMEOUT_MS 30000
#define DB_TX_RETRIES 5

struct db {
    sqlite3 *h;
    char *path;
    int tx_depth;
    bool tx_failed; /* a nested savepoint was rolled back */
    int last_rc;
    time_t tx_started; /* when the outermost transaction began */
    struct db_stmt_cache *stmts; /* stmt_cache.c */
    /* the pre-commit step (db_tx_precommit_set) and whether the open
     * transaction asked for it */
    db_precommit_fn precommit;
    void *precommit_ctx;
    void (*precommit_free)(void *ctx);
    bool precommit_armed;
    struct db_checkpointer *ckpt; /* db_checkpoint_beside, or NULL */
    bool batch_cache; /* db_for_batches */
};

struct db_stmt_cache **db_stmt_cache_slot(struct db *db)
{
    return &db->stmts;
}

static enum err_kind kind_of(int rc)
{
    rc &= 0xff;
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? ERR_BUSY : ERR_INTERNAL;
}

enum err_kind db_error_kind(struct db *db)
{
    return kind_of(sqlite3_extended_errcode(db->h));
}

static int db_fail(struct db *db, struct err *err, const char *what)
{
    db->last_rc = sqlite3_extended_errcode(db->h);
    return err_setk(err, kind_of(db->last_rc), "db: %s: %s", what, sqlite3_errmsg(db->h));
}

bool db_last_was_busy(struct db *db)
{
    int rc = db->last_rc & 0xff;
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

struct sqlite3 *db_handle(struct db *db)
{
    return db->h;
}

const char *db_path(const struct db *db)
{
    return db->path;
}

/* Migration file names start with a 4-digit version: 0001_core.sql. */
static int migration_version(const struct embedded_file *f)
{
    int v = 0;

    for (int i = 0; i < 4; i++) {
        char c = f->name[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    return f->name[4] == '_' ? v : -1;
}

int db_schema_latest(void)
{
    return (int)db_migration_files_count;
}

int db_exec(struct db *db, const char *sql, struct err *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        db->last_rc = sqlite3_extended_errcode(db->h);
        err_setk(err, kind_of(db->last_rc), "db: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int ensure_migrations_table(struct db *db, struct err *err)
{
    return db_exec(db,
                   "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   " version INTEGER PRIMARY KEY,"
                   " name TEXT NOT NULL,"
                   " sha256 TEXT NOT NULL,"
                   " applied_at TEXT NOT NULL) STRICT",
                   err);
}

static int table_exists(struct db *db, const char *name, bool *out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db->h, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1", -1,
                           &st, NULL) != SQLITE_OK)
        return db_fail(db, err, "reading schema");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        db_fail(db, err, "reading schema");
        sqlite3_finalize(st);
        return -1;
    }
    *out = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    return 0;
}

int db_schema_version(struct db *db, int *out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    bool exists = false;
    int rc;

    if (table_exists(db, "schema_migrations", &exists, err) != 0)
        return -1;
    if (!exists) {
        *out = 0;
        return 0;
    }
    if (sqlite3_prepare_v2(db->h, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1,
                           &st, NULL) != SQLITE_OK)
        return db_fail(db, err, "reading schema version");
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        db_fail(db, err, "reading schema version");
        sqlite3_finalize(st);
        return -1;
    }
    {
        /* clamp a hand-edited number rather than let it wrap into range */
        sqlite3_int64 v = sqlite3_column_int64(st, 0);
        *out = v > INT_MAX ? INT_MAX : v < 0 ? 0 : (int)v;
    }
    sqlite3_finalize(st);
    return 0;
}

static void sha256_hex(const unsigned char *p, size_t n, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(h, p, n);
    hex_encode(h, sizeof h, out);
}

static int apply_migration(struct db *db, const struct embedded_file *f, int version,
                           struct err *err)
{
    sqlite3_stmt *st = NULL;
    char hash[65], now[TIME_ISO8601_LEN + 1];
    int rc = -1;

    sha256_hex(f->data, f->len, hash);
    if (time_iso8601(time(NULL), now) != 0)
        return err_set(err, "db: system clock out of range");
    if (db_tx_begin(db, err) != 0)
        return -1;
    /* The embedded text is ours, never input: executing it is not SQL built
     * from input. */
    if (db_exec(db, (const char *)f->data, err) != 0) {
        err_prefix(err, "migration %s", f->name);
        goto out;
    }
    if (sqlite3_prepare_v2(db->h,
                           "INSERT INTO schema_migrations(version, name, sha256, applied_at)"
                           " VALUES (?1, ?2, ?3, ?4)",
                           -1, &st, NULL) != SQLITE_OK) {
        db_fail(db, err, "recording migration");
        goto out;
    }
    if (db_bind(db, st, err, "isss", version, f->name, hash, now) != 0)
        goto out;
    if (sqlite3_step(st) != SQLITE_DONE) {
        db_fail(db, err, "recording migration");
        goto out;
    }
    if (db_tx_commit(db, err) != 0)
        goto out_no_rollback;
    log_info("db: applied migration %s", f->name);
    rc = 0;
out:
    if (rc != 0)
        db_tx_rollback(db);
out_no_rollback:
    sqlite3_finalize(st);
    return rc;
}

int db_migrate(struct db *db, struct err *err)
{
    int current = 0;

    if (ensure_migrations_table(db, err) != 0)
        return -1;
    if (db_schema_version(db, &current, err) != 0)
        return -1;
    if (current > db_schema_latest())
        return err_set(err,
                       "db: %s has schema version %d, newer than this civreg knows (%d): "
                       "upgrade civreg before using this data directory",
                       db->path, current, db_schema_latest());
    for (size_t i = 0; i < db_migration_files_count; i++) {
        const struct embedded_file *f = &db_migration_files[i];
        int v = migration_version(f);
        if (v != (int)i + 1)
            return err_set(err, "db: embedded migration %s is out of sequence (expected %04zu)",
                           f->name, i + 1);
        if (v <= current)
            continue;
        if (apply_migration(db, f, v, err) != 0)
            return -1;
    }
    return 0;
}

static int set_pragmas(struct db *db, unsigned flags, struct err *err)
{
    sqlite3_stmt *st = NULL;
    const char *mode;

    if (sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS) != SQLITE_OK)
        return db_fail(db, err, "setting busy timeout");
    /* The first real read: a file that is not a database fails here. */
    if (db_exec(db, "PRAGMA foreign_keys=ON", err) != 0)
        return -1;
    if (flags & DB_OPEN_CHECK)
        return db_exec(db, "SELECT count(*) FROM sqlite_master", err);
    if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, "setting WAL mode");
    if (sqlite3_step(st) != SQLITE_ROW) {
        db_fail(db, err, "setting WAL mode");
        sqlite3_finalize(st);
        return -1;
    }
    mode = (const char *)sqlite3_column_text(st, 0);
    if (mode == NULL || strcmp(mode, "wal") != 0) {
        err_set(err, "db: %s: cannot switch to WAL journal mode (got %s)", db->path,
                mode ? mode : "nothing");
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return db_exec(db, "PRAGMA synchronous=FULL", err);
}

/* The database holds every record: owner only (0600). SQLite gives the
 * -wal and -shm files it creates the database file's permissions, so a
 * private database keeps them private; a file made by an older civreg
 * (0644 under the usual umask) is tightened here, with its -wal and -shm. */
static int db_files_private(const char *path, bool create, struct err *err)
{
    static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
    char p[4096];
    struct stat st;
    int fd;

    if (create) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0)
            (void)close(fd);
        else if (errno != EEXIST)
            return err_set(err, "db: %s: %s", path, strerror(errno));
    }
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        if (snprintf(p, sizeof p, "%s%s", path, suffix[i]) >= (int)sizeof p)
            return err_set(err, "db: %s: path too long", path);
        if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) == 0)
            continue;
        if (chmod(p, st.st_mode & 0700) != 0)
            return err_set(err, "db: %s: cannot make it private (mode %03o): %s", p,
                           (unsigned)(st.st_mode & 0777), strerror(errno));
    }
    return 0;
}

/* Before SQLite's first use in the process: no allocation statistics.
 * SQLite otherwise counts every malloc and free under one process-wide
 * mutex (about 3% of the import batch's thread, see docs/performance.md,
 * round 9b); civreg never reads them (sqlite3_memory_used, heap limits).
 * And statement journals held in memory up to DB_STMT_JOURNAL_MEM bytes
 * (SQLite's default: 64 KiB). A statement that may fail halfway inside a
 * transaction (an UPDATE of a column with a foreign key and a UNIQUE
 * index, as the registration's of birth_records) journals the pages it
 * changes; past the bound the journal becomes a temporary file, which
 * stays for the rest of the transaction: from the first statement that
 * outgrew 64 KiB on (a B-tree split), each later registration of a bulk
 * batch wrote its ~8 pages there with 16 pwrite calls (docs/performance.md,
 * round 17c). The journal is emptied after each statement.
 * When something initialized SQLite first the calls are refused, harmlessly. */
static pthread_once_t sqlite_configured = PTHREAD_ONCE_INIT;

static void sqlite_configure(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, DB_STMT_JOURNAL_MEM);
}

void db_library_init(void)
{
    (void)pthread_once(&sqlite_configured, sqlite_configure);
}

int db_open(const char *path, unsigned flags, struct db **out, struct err *err)
{
    struct db *db = NULL;
    int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    int version = 0;

    *out = NULL;
    db_library_init();
    if (flags & DB_OPEN_CREATE)
        oflags |= SQLITE_OPEN_CREATE;
    else if (access(path, F_OK) != 0)
        return err_set(err, "db: %s: %s (run `civreg init` to create a data directory)", path,
                       strerror(errno));
    db = calloc(1, sizeof *db);
    if (db == NULL)
        return err_setk(err, ERR_INTERNAL, "db: out of memory");
    db->path = strdup(path);
    if (db->path == NULL) {
        free(db);
        return err_setk(err, ERR_INTERNAL, "db: out of memory");
    }
    if (strcmp(path, ":memory:") != 0 && path[0] != '\0' &&
        db_files_private(path, (flags & DB_OPEN_CREATE) != 0, err) != 0)
        goto fail;
    if (sqlite3_open_v2(path, &db->h, oflags, NULL) != SQLITE_OK) {
        err_setk(err, ERR_INTERNAL, "db: %s: %s", path,
                 db->h ? sqlite3_errmsg(db->h) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(db->h, 1);
    if (set_pragmas(db, flags, err) != 0) {
        err_prefix(err, "%s", path);
        goto fail;
    }
    if (flags & DB_OPEN_CHECK) {
        *out = db;
        return 0;
    }
    if (db_schema_version(db, &version, err) != 0)
        goto fail;
    if (version > db_schema_latest()) {
        err_set(err,
                "db: %s has schema version %d, newer than this civreg knows (%d): "
                "upgrade civreg before using this data directory",
                path, version, db_schema_latest());
        goto fail;
    }
    if (flags & DB_OPEN_MIGRATE) {
        if (db_migrate(db, err) != 0)
            goto fail;
    } else if (version < db_schema_latest()) {
        err_set(err, "db: %s has schema version %d, older than %d: run `civreg db migrate`", path,
                version, db_schema_latest());
        goto fail;
    }
    *out = db;
    return 0;
fail:
    db_close(db);
    return -1;
}

/* SQLite's WAL hook on a connection with a checkpointer beside it
 * (installing it turns the automatic checkpoint off): after each commit,
 * durable in the WAL, the checkpoint asked for instead of run here. */
static int wal_committed(void *arg, sqlite3 *h, const char *schema, int frames)
{
    struct db *db = arg;

    (void)h;
    (void)schema;
    db_checkpointer_committed(db->ckpt, db, frames);
    return SQLITE_OK;
}

int db_checkpoint_beside(struct db *db, struct err *err)
{
    if (db->ckpt != NULL)
        return 0;
    db->ckpt = db_checkpointer_new(db->path);
    if (db->ckpt == NULL)
        return err_setk(err, ERR_INTERNAL, "db: checkpointer: out of memory");
    (void)sqlite3_wal_hook(db->h, wal_committed, db);
    return 0;
}

int db_for_batches(struct db *db, struct err *err)
{
    if (db->batch_cache)
        return 0;
    if (db_checkpoint_beside(db, err) != 0)
        return -1;
#define DB_STR_(x) #x
#define DB_STR(x) DB_STR_(x)
    /* a negative size is in KiB */
    if (db_exec(db, "PRAGMA cache_size=-" DB_STR(DB_BATCH_CACHE_KIB), err) != 0)
        return -1;
    db->batch_cache = true;
    return 0;
}

unsigned long db_checkpoints_beside(struct db *db)
{
    return db_checkpointer_count(db->ckpt);
}

void db_close(struct db *db)
{
    if (db == NULL)
        return;
    if (db->tx_depth > 0 && db->h)
        (void)sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    if (db->ckpt != NULL) {
        (void)sqlite3_wal_hook(db->h, NULL, NULL);
        db_checkpointer_free(db->ckpt);
    }
    db_stmt_cache_free(db->stmts);
    if (db->precommit_free)
        db->precommit_free(db->precommit_ctx);
    sqlite3_close_v2(db->h);
    free(db->path);
    free(db);
}

int db_tx_begin(struct db *db, struct err *err)
{
    char sql[64];

    if (db->tx_depth == 0) {
        if (db_exec(db, "BEGIN IMMEDIATE", err) != 0)
            return -1;
        db->tx_failed = false;
        db->precommit_armed = false;
        db->tx_started = time(NULL);
    } else {
        (void)snprintf(sql, sizeof sql, "SAVEPOINT sp%d", db->tx_depth);
        if (db_exec(db, sql, err) != 0)
            return -1;
    }
    db->tx_depth++;
    return 0;
}

bool db_tx_broken(struct db *db)
{
    return db->tx_depth > 0 && (db->tx_failed || sqlite3_get_autocommit(db->h));
}

time_t db_tx_time(struct db *db)
{
    return db->tx_depth > 0 ? db->tx_started : time(NULL);
}

int db_tx_commit(struct db *db, struct err *err)
{
    char sql[64];

    if (db->tx_depth <= 0)
        return err_set(err, "db: commit without a transaction");
    if (db->tx_depth == 1) {
        if (db->tx_failed) {
            db_tx_rollback(db);
            return err_set(err, "db: transaction aborted by an inner failure");
        }
        /* the pre-commit step writes in the transaction it closes: its
         * failure rolls the whole transaction back */
        if (db->precommit_armed) {
            db->precommit_armed = false;
            if (db->precommit(db, db->precommit_ctx, err) != 0) {
                db_tx_rollback(db);
                return -1;
            }
        }
        if (db_exec(db, "COMMIT", err) != 0) {
            db_tx_rollback(db);
            return -1;
        }
    } else {
        (void)snprintf(sql, sizeof sql, "RELEASE sp%d", db->tx_depth - 1);
        if (db_exec(db, sql, err) != 0) {
            db_tx_rollback(db);
            return -1;
        }
    }
    db->tx_depth--;
    return 0;
}

void db_tx_rollback(struct db *db)
{
    char sql[96];

    if (db->tx_depth <= 0)
        return;
    if (db->tx_depth == 1) {
        db->precommit_armed = false;
        if (!sqlite3_get_autocommit(db->h))
            (void)sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    } else {
        (void)snprintf(sql, sizeof sql, "ROLLBACK TO sp%d; RELEASE sp%d", db->tx_depth - 1,
                       db->tx_depth - 1);
        if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
            db->tx_failed = true;
    }
    db->tx_depth--;
}

void *db_tx_precommit_ctx(struct db *db, db_precommit_fn fn)
{
    return db->precommit == fn ? db->precommit_ctx : NULL;
}

int db_tx_precommit_set(struct db *db, db_precommit_fn fn, void *ctx, void (*free_ctx)(void *),
                        struct err *err)
{
    if (db->precommit != NULL)
        return err_setk(err, ERR_INTERNAL, "db: this connection has a pre-commit step already");
    db->precommit = fn;
    db->precommit_ctx = ctx;
    db->precommit_free = free_ctx;
    return 0;
}

int db_tx_precommit_arm(struct db *db, struct err *err)
{
    if (db->tx_depth <= 0 || db->precommit == NULL)
        return err_setk(err, ERR_INTERNAL, "db: a pre-commit step needs a transaction and a step");
    db->precommit_armed = true;
    return 0;
}

int db_tx_run(struct db *db, int (*fn)(struct db *db, void *arg, struct err *err), void *arg,
              struct err *err)
{
    for (int attempt = 0;; attempt++) {
        db->last_rc = 0;
        if (db_tx_begin(db, err) == 0) {
            if (fn(db, arg, err) == 0) {
                if (db_tx_commit(db, err) == 0)
                    return 0;
            } else {
                db_tx_rollback(db);
            }
        }
        /* Only a whole transaction can be retried, and only when it lost a
         * race for the write lock. */
        if (db->tx_depth > 0 || !db_last_was_busy(db) || attempt >= DB_TX_RETRIES)
            return -1;
        log_debug("db: transaction busy, retrying (%d)", attempt + 1);
        {
            struct timespec ts = { 0, (long)(50 + (long)randombytes_uniform(200)) * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
}

int db_setting_get(struct db *db, const char *key, char **out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    *out = NULL;
    if (sqlite3_prepare_v2(db->h, "SELECT value FROM settings WHERE key=?1", -1, &st, NULL) !=
        SQLITE_OK)
        return db_fail(db, err, "reading settings");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = strdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        return *out ? 0 : err_setk(err, ERR_INTERNAL, "db: out of memory");
    }
    if (rc != SQLITE_DONE) {
        db_fail(db, err, "reading settings");
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return 1;
}

int db_setting_set(struct db *db, const char *key, const char *value, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(db->h,
                           "INSERT INTO settings(key, value) VALUES (?1, ?2)"
                           " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, "writing settings");
    if (db_bind(db, st, err, "ss", key, value) != 0)
        rc = -1;
    else if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(db, err, "writing settings");
    sqlite3_finalize(st);
    return rc;
}

static int check_pragma_rows(struct db *db, const char *sql, const char *what,
                             void (*report)(void *, const char *), void *ctx, int *problems,
                             struct err *err)
{
    sqlite3_stmt *st = NULL;
    struct buf line = BUF_INIT(4096);
    int rc;

    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, what);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int n = sqlite3_column_count(st);
        if (n == 1 && sqlite3_column_text(st, 0) &&
            strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0)
            continue;
        buf_reset(&line);
        if (buf_printf(&line, "%s:", what) != 0)
            continue;
        for (int i = 0; i < n; i++) {
            const char *v = (const char *)sqlite3_column_text(st, i);
            if (buf_printf(&line, " %s=%s", sqlite3_column_name(st, i), v ? v : "NULL") != 0)
                break;
        }
        report(ctx, buf_str(&line));
        (*problems)++;
    }
    buf_release(&line);
    if (rc != SQLITE_DONE) {
        /* A corrupt file often fails the check itself: that is a problem to
         * report, not a reason to stop. */
        char msg[ERR_MSG_MAX];
        (void)snprintf(msg, sizeof msg, "%s: %s", what, sqlite3_errmsg(db->h));
        report(ctx, msg);
        (*problems)++;
    }
    sqlite3_finalize(st);
    return 0;
}

static int check_migrations(struct db *db, void (*report)(void *, const char *), void *ctx,
                            int *problems, struct err *err)
{
    sqlite3_stmt *st = NULL;
    bool exists = false;
    int applied = 0, rc;
    char msg[ERR_MSG_MAX];

    if (table_exists(db, "schema_migrations", &exists, err) != 0) {
        report(ctx, err_msg(err));
        (*problems)++;
        return 0;
    }
    if (!exists) {
        report(ctx, "migrations: no schema_migrations table: not a civreg database, or never "
                    "initialised (run `civreg init`)");
        (*problems)++;
        return 0;
    }
    if (sqlite3_prepare_v2(db->h, "SELECT version, name, sha256 FROM schema_migrations ORDER BY version",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, "reading migrations");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* The recorded number is data, possibly edited by hand: read it as
         * the 64-bit integer it is stored as and check its range before it
         * names an embedded migration. */
        sqlite3_int64 v = sqlite3_column_int64(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *hash = (const char *)sqlite3_column_text(st, 2);
        const struct embedded_file *f;
        char want[65];

        if (v < 1) {
            (void)snprintf(msg, sizeof msg,
                           "migrations: version %lld (%s) is recorded, but migration numbers "
                           "start at 1: schema_migrations was altered",
                           (long long)v, name ? name : "?");
            report(ctx, msg);
            (*problems)++;
            continue;
        }
        applied++;
        if (v != applied) {
            (void)snprintf(msg, sizeof msg,
                           "migrations: version %lld recorded where %d was expected",
                           (long long)v, applied);
            report(ctx, msg);
            (*problems)++;
            applied = v > INT_MAX ? INT_MAX : (int)v;
        }
        if (v > db_schema_latest()) {
            (void)snprintf(msg, sizeof msg,
                           "migrations: schema version %lld (%s) is newer than this civreg knows "
                           "(%d): upgrade civreg",
                           (long long)v, name ? name : "?", db_schema_latest());
            report(ctx, msg);
            (*problems)++;
            continue;
        }
        f = &db_migration_files[v - 1];
        sha256_hex(f->data, f->len, want);
        if (name == NULL || hash == NULL || strcmp(name, f->name) != 0 ||
            strcmp(hash, want) != 0) {
            (void)snprintf(msg, sizeof msg,
                           "migrations: version %lld was applied as %s with other content than "
                           "this civreg's %s",
                           (long long)v, name ? name : "?", f->name);
            report(ctx, msg);
            (*problems)++;
        }
    }
    if (rc != SQLITE_DONE) {
        (void)snprintf(msg, sizeof msg, "migrations: %s", sqlite3_errmsg(db->h));
        report(ctx, msg);
        (*problems)++;
    }
    sqlite3_finalize(st);
    if (applied < db_schema_latest()) {
        (void)snprintf(msg, sizeof msg,
                       "migrations: schema version %d, %d pending: run `civreg db migrate`",
                       applied, db_schema_latest() - applied);
        report(ctx, msg);
        (*problems)++;
    }
    return 0;
}

int db_check(struct db *db, void (*report)(void *ctx, const char *problem), void *ctx,
             struct err *err)
{
    int problems = 0;

    if (check_pragma_rows(db, "PRAGMA integrity_check", "integrity_check", report, ctx,
                          &problems, err) != 0)
        return -1;
    if (check_pragma_rows(db, "PRAGMA foreign_key_check", "foreign_key_check", report, ctx,
                          &problems, err) != 0)
        return -1;
    if (check_migrations(db, report, ctx, &problems, err) != 0)
        return -1;
    return problems;
}
