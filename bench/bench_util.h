/* civreg benchmarks: what every bench/<name>.c shares.
 *
 * - `--help` prints the usage and exits 0 before anything is built;
 *   `--json FILE` writes the figures of the run as one JSON object
 *   ({"bench": NAME, "figures": {name: {"value", "unit"}}}) so that runs
 *   can be compared (bench/all joins them into one file).
 * - Anchors: the machine's own limits measured in the same run, printed
 *   beside each figure (raw Ed25519 sign/verify, SHA-256 of 256 bytes,
 *   ECDSA P-256 sign, a bare SQLite insert with synchronous=FULL), because
 *   the development machine is shared and its speed drifts from run to run.
 *
 * Header-only: each benchmark is one program. The anchors reach SQLite and
 * OpenSSL directly: they measure the libraries civreg is built on, not
 * civreg. */
#ifndef CIVREG_BENCH_UTIL_H
#define CIVREG_BENCH_UTIL_H

#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/ed25519_batch.h"

static json_t *bench_figures_;

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds used by this process (every thread): on a shared machine
 * the rate per CPU second moves far less than the rate per wall second. */
static inline double bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds used by the calling thread alone: the bound of a phase's
 * wall rate when its other threads run beside it on other cores. */
static inline double bench_thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Record one figure of this run (printed by the caller). */
static inline void bench_figure(const char *name, double value, const char *unit)
{
    if (bench_figures_ == NULL)
        bench_figures_ = json_object();
    if (bench_figures_ != NULL)
        (void)json_object_set_new(bench_figures_, name,
                                  json_pack("{s:f, s:s}", "value", value, "unit", unit));
}

/* bench_figure with the name made by printf from FMT. */
static inline void bench_figuref(double value, const char *unit, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void bench_figuref(double value, const char *unit, const char *fmt, ...)
{
    char name[160];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    bench_figure(name, value, unit);
}

/* Handle the common options: `--help`/`-h` prints USAGE and returns 1 (the
 * caller exits 0); `--json FILE` is removed from ARGV and remembered.
 * Returns 0 to go on, -1 on a malformed option (usage printed). */
static const char *bench_json_path_;
static inline int bench_options(int *argc, char **argv, const char *usage)
{
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        if (strcmp(argv[i], "--json") == 0) {
            if (i + 1 >= *argc) {
                fputs(usage, stderr);
                return -1;
            }
            bench_json_path_ = argv[++i];
            continue;
        }
        argv[out++] = argv[i];
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

/* bench_options, then between LO and HI positional arguments. Returns 1
 * when the caller exits 0 (--help), -1 when it exits 2 (usage printed),
 * 0 to go on. */
static inline int bench_args(int *argc, char **argv, const char *usage, int lo, int hi)
{
    int o = bench_options(argc, argv, usage);
    if (o == 0 && (*argc - 1 < lo || *argc - 1 > hi)) {
        fputs(usage, stderr);
        return -1;
    }
    return o;
}

/* S as a whole number from LO to HI into *OUT. Returns 0, -1 when it is
 * none (OUT untouched). */
static inline int bench_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Remove the benchmark's scratch folder DIR (and everything in it). */
static inline void bench_remove_dir(const char *bench, const char *dir)
{
    char cmd[4300];
    if (snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir) >= (int)sizeof cmd || system(cmd) != 0)
        fprintf(stderr, "bench %s: could not remove %s\n", bench, dir);
}

/* Write the figures to the --json file, if one was asked for. */
static inline int bench_write_json(const char *bench)
{
    json_t *o;
    FILE *f;
    int rc = 0;

    if (bench_json_path_ == NULL)
        return 0;
    o = json_pack("{s:s, s:O}", "bench", bench, "figures",
                  bench_figures_ ? bench_figures_ : json_object());
    f = fopen(bench_json_path_, "w");
    if (o == NULL || f == NULL || json_dumpf(o, f, JSON_INDENT(1) | JSON_SORT_KEYS) != 0)
        rc = -1;
    if (f != NULL && fclose(f) != 0)
        rc = -1;
    json_decref(o);
    if (rc != 0)
        fprintf(stderr, "bench %s: cannot write %s\n", bench, bench_json_path_);
    return rc;
}

/* Anchors: operations per second over about SECONDS. */
static inline double bench_anchor_ed25519_sign(double seconds)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    unsigned char msg[600], sig[crypto_sign_BYTES];
    double t0 = bench_now(), t;
    long n;

    crypto_sign_keypair(pk, sk);
    randombytes_buf(msg, sizeof msg);
    for (n = 0; (t = bench_now() - t0) < seconds; n++) {
        msg[0] = (unsigned char)n;
        crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
    }
    sodium_memzero(sk, sizeof sk);
    return (double)n / t;
}

static inline double bench_anchor_ed25519_verify(double seconds)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    unsigned char msg[600], sig[crypto_sign_BYTES];
    double t0, t;
    long n, bad = 0;

    crypto_sign_keypair(pk, sk);
    randombytes_buf(msg, sizeof msg);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
    sodium_memzero(sk, sizeof sk);
    t0 = bench_now();
    for (n = 0; (t = bench_now() - t0) < seconds; n++)
        bad += crypto_sign_verify_detached(sig, msg, sizeof msg, pk) != 0;
    return bad ? 0.0 : (double)n / t;
}

/* core/ed25519_batch.c's verification: signatures a second in full batches
 * (ED_BATCH_MAX, one key, 600-byte messages), the bound of the audit and the
 * national push, to compare with bench_anchor_ed25519_verify. */
static inline double bench_anchor_ed25519_batch_verify(double seconds)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    static unsigned char msg[ED_BATCH_MAX][600], sig[ED_BATCH_MAX][crypto_sign_BYTES];
    struct ed_batch_item items[ED_BATCH_MAX];
    double t0, t;
    long n, bad = 0;

    crypto_sign_keypair(pk, sk);
    for (int i = 0; i < ED_BATCH_MAX; i++) {
        randombytes_buf(msg[i], sizeof msg[i]);
        crypto_sign_detached(sig[i], NULL, msg[i], sizeof msg[i], sk);
        items[i] = (struct ed_batch_item){ pk, sig[i], msg[i], sizeof msg[i] };
    }
    sodium_memzero(sk, sizeof sk);
    t0 = bench_now();
    for (n = 0; (t = bench_now() - t0) < seconds; n += ED_BATCH_MAX)
        bad += !ed25519_batch_verify(items, ED_BATCH_MAX, NULL);
    return bad ? 0.0 : (double)n / t;
}

static inline double bench_anchor_sha256(double seconds)
{
    unsigned char msg[256], h[crypto_hash_sha256_BYTES];
    double t0 = bench_now(), t;
    long n;

    memset(msg, 0x5a, sizeof msg);
    for (n = 0; (t = bench_now() - t0) < seconds; n++) {
        msg[0] = (unsigned char)n;
        crypto_hash_sha256(h, msg, sizeof msg);
    }
    return (double)n / t;
}

/* ECDSA P-256 over SHA-256 with OpenSSL, as the Document Signer signs. */
static inline double bench_anchor_ecdsa_p256_sign(double seconds)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    unsigned char msg[256], sig[128];
    double t0, t = 0;
    long n = 0;

    if (k == NULL)
        return 0.0;
    memset(msg, 0x3c, sizeof msg);
    t0 = bench_now();
    for (n = 0; (t = bench_now() - t0) < seconds; n++) {
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        size_t sl = sizeof sig;
        if (c == NULL || EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, k) != 1 ||
            EVP_DigestSign(c, sig, &sl, msg, sizeof msg) != 1) {
            EVP_MD_CTX_free(c);
            EVP_PKEY_free(k);
            return 0.0;
        }
        EVP_MD_CTX_free(c);
    }
    EVP_PKEY_free(k);
    return (double)n / t;
}

/* Bare SQLite: rows of ROW_BYTES inserted into a WAL database with
 * synchronous=FULL, PER_TX rows per transaction (1: one fsync'ed commit per
 * row, the bound of one-step-at-a-time writes). DIR must exist. Rows/s. */
static inline double bench_anchor_sqlite_insert(const char *dir, int per_tx, double seconds)
{
    char path[4200];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    unsigned char row[600];
    double t0, t = 0;
    long n = 0;
    bool ok = true;

    (void)snprintf(path, sizeof path, "%s/anchor-%d.db", dir, per_tx);
    memset(row, 0x42, sizeof row);
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     " CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT UNIQUE, body BLOB)",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO t(k, body) VALUES (?1, ?2)", -1, &st, NULL) !=
            SQLITE_OK) {
        ok = false;
        goto out;
    }
    t0 = bench_now();
    while (ok && (t = bench_now() - t0) < seconds) {
        ok = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
        for (int i = 0; ok && i < per_tx; i++, n++) {
            char key[32];
            (void)snprintf(key, sizeof key, "k%ld", n * 7919 % 1000003 + n * 1000003);
            sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
            sqlite3_bind_blob(st, 2, row, sizeof row, SQLITE_STATIC);
            ok = sqlite3_step(st) == SQLITE_DONE;
            sqlite3_reset(st);
        }
        ok = ok && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    }
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    (void)unlink(path);
    {
        char side[4300];
        (void)snprintf(side, sizeof side, "%s-wal", path);
        (void)unlink(side);
        (void)snprintf(side, sizeof side, "%s-shm", path);
        (void)unlink(side);
    }
    return ok && t > 0 ? (double)n / t : 0.0;
}

/* Print and record the registry's anchors (DIR: a folder on the same disk
 * as the benchmark's database). */
static inline void bench_anchors_registry(const char *dir, double seconds)
{
    double s = bench_anchor_ed25519_sign(seconds), v = bench_anchor_ed25519_verify(seconds),
           bv = bench_anchor_ed25519_batch_verify(seconds), h = bench_anchor_sha256(seconds), i1 = bench_anchor_sqlite_insert(dir, 1, seconds),
           ib = bench_anchor_sqlite_insert(dir, 1000, seconds);
    printf("anchor: Ed25519 sign %.0f/s, verify %.0f/s, batch verify %.0f/s (%d a batch),"
           " SHA-256 (256 B) %.0f/s, one core\n",
           s, v, bv, ED_BATCH_MAX, h);
    printf("anchor: bare SQLite insert (600 B rows, WAL, synchronous=FULL): %.0f rows/s one per"
           " commit, %.0f rows/s 1,000 per commit\n",
           i1, ib);
    bench_figure("anchor.ed25519_sign", s, "ops/s");
    bench_figure("anchor.ed25519_verify", v, "ops/s");
    bench_figure("anchor.ed25519_batch_verify", bv, "ops/s");
    bench_figure("anchor.sha256_256B", h, "ops/s");
    bench_figure("anchor.sqlite_insert_per_commit", i1, "rows/s");
    bench_figure("anchor.sqlite_insert_1000_per_commit", ib, "rows/s");
}

#endif
