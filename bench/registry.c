/* bench/registry: throughput of the registry.
 *
 *   registry [RECORDS] [BATCH]     (defaults 100000 and 500)
 *
 * Builds its own data directory in $TMPDIR, then takes RECORDS birth records
 * from draft to registered (clerk A drafts, clerk B re-keys blind, a
 * registrar registers: three signed events, three signed tree heads and a
 * signed link per record). The first 1,000 run one transaction per step, as
 * the command line and the web server do (each commit is fsync'ed:
 * synchronous=FULL); the rest run BATCH steps per transaction, as a bulk
 * import would. Then `audit verify` re-checks the whole log. Prints
 * records/s for both modes and events verified/s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/secret.h"
#include "db/datadir.h"
#include "db/db.h"
#include "registry/registry.h"

#define SINGLE 1000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct err *err)
{
    fprintf(stderr, "bench registry: %s: %s\n", what, err_msg(err));
    exit(1);
}

static int one_record(struct db *db, struct registry_actor *a, struct registry_actor *b,
                      struct registry_actor *r, json_t *rec, long i, struct err *err)
{
    char name[64], *id = NULL;
    json_t *res = NULL;
    int rc;

    snprintf(name, sizeof name, "Child %ld", i);
    json_object_set_new(json_object_get(rec, "child"), "given_names", json_string(name));
    rc = registry_record_draft(db, a, rec, &id, err) != 0 ||
                 registry_record_verify(db, b, id, rec, NULL, err) != 0 ||
                 registry_record_register(db, r, id, &res, err) != 0
             ? -1
             : 0;
    free(id);
    json_decref(res);
    return rc;
}

static void add_user(struct db *db, const char *keys, struct registry_actor *admin,
                     const char *name, unsigned roles)
{
    struct err err = ERR_INIT;
    struct registry_user_new u = { name, "bench-password", roles, "HQ" };
    if (registry_user_add(db, keys, admin, &u, &err) != 0)
        die("user add", &err);
}

static void count(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "audit: %s\n", line);
}

int main(int argc, char **argv)
{
    long total = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    long batch = argc > 2 ? strtol(argv[2], NULL, 10) : 500;
    const char *tmp = getenv("TMPDIR");
    char base[4096], path[4200], cmd[4300];
    struct datadir *dd = NULL;
    struct db *db = NULL;
    struct registry_actor *admin = NULL, *a = NULL, *b = NULL, *r = NULL;
    struct registry_audit_stats stats;
    struct err err = ERR_INIT;
    json_t *rec = registry_record_example();
    double t0, t_single, t_batch, t_audit;
    long single = total < SINGLE ? total : SINGLE, i;
    int problems;

    if (total < 1 || batch < 1 || rec == NULL) {
        fprintf(stderr, "usage: registry [RECORDS] [BATCH]\n");
        return 2;
    }
    if (secret_init(&err) != 0)
        die("libsodium", &err);
    snprintf(base, sizeof base, "%s/civreg-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(base) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/data", base);
    if (datadir_init(path, NULL, &err) != 0 || datadir_open(path, &dd, &err) != 0 ||
        datadir_db_open(dd, 0, &db, &err) != 0)
        die(path, &err);
    add_user(db, dd->keys_dir, NULL, "admin", ROLE_ADMIN);
    if (registry_authenticate(db, dd->keys_dir, "admin", "bench-password", &admin, &err) != 0)
        die("sign in", &err);
    add_user(db, dd->keys_dir, admin, "clerk-a", ROLE_CLERK);
    add_user(db, dd->keys_dir, admin, "clerk-b", ROLE_CLERK);
    add_user(db, dd->keys_dir, admin, "registrar", ROLE_REGISTRAR);
    if (registry_authenticate(db, dd->keys_dir, "clerk-a", "bench-password", &a, &err) != 0 ||
        registry_authenticate(db, dd->keys_dir, "clerk-b", "bench-password", &b, &err) != 0 ||
        registry_authenticate(db, dd->keys_dir, "registrar", "bench-password", &r, &err) != 0)
        die("sign in", &err);

    t0 = now();
    for (i = 0; i < single; i++)
        if (one_record(db, a, b, r, rec, i, &err) != 0)
            die("record", &err);
    t_single = now() - t0;

    t0 = now();
    while (i < total) {
        if (db_tx_begin(db, &err) != 0)
            die("begin", &err);
        for (long k = 0; k < batch && i < total; k++, i++)
            if (one_record(db, a, b, r, rec, i, &err) != 0)
                die("record", &err);
        if (db_tx_commit(db, &err) != 0)
            die("commit", &err);
    }
    t_batch = now() - t0;

    t0 = now();
    problems = registry_audit_verify(db, dd->keys_dir, dd->blobs_dir, NULL, count, NULL, &stats,
                                     &err);
    t_audit = now() - t0;
    if (problems != 0)
        die("audit verify", &err);

    printf("records draft -> verified -> registered, one transaction per step: %ld in %.2f s = "
           "%.0f records/s\n",
           single, t_single, (double)single / t_single);
    if (total > single)
        printf("records draft -> verified -> registered, %ld steps per transaction: %ld in %.2f s "
               "= %.0f records/s\n",
               batch, total - single, t_batch, (double)(total - single) / t_batch);
    printf("audit verify over %ld records: %llu events (and %llu signed tree heads) in %.2f s = "
           "%.0f events verified/s\n",
           total, (unsigned long long)stats.events, (unsigned long long)stats.tree_heads, t_audit,
           (double)stats.events / t_audit);

    registry_actor_free(admin);
    registry_actor_free(a);
    registry_actor_free(b);
    registry_actor_free(r);
    json_decref(rec);
    db_close(db);
    datadir_free(dd);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0)
        fprintf(stderr, "bench registry: could not remove %s\n", base);
    return 0;
}
