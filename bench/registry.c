/* bench/registry: throughput of the registry's write path and its audit.
 *
 *   registry [RECORDS] [BATCH] [--single N] [--import N] [--json FILE]
 *   registry --audit DATA [--json FILE]
 *
 * Builds its own data directory in $TMPDIR and measures, beside the anchors
 * of the same run (raw Ed25519 sign/verify, SHA-256, a bare SQLite insert
 * with synchronous=FULL):
 *  - import: N drafts (default RECORDS) through the bulk import path
 *    (registry_record_import_batch, what `civreg record import` calls), in
 *    batches of --import-batch (default 2,000, the command's), each draft
 *    checked for duplicates against what is stored, signed and logged;
 *  - RECORDS distinct generated people taken from draft to registered
 *    (clerk A drafts, clerk B re-keys blind, a registrar registers: three
 *    signed events and a signed link per record). The first N (--single,
 *    default 1,000) run one transaction per step, as the command line and
 *    the web server do (each commit fsync'ed: synchronous=FULL); the rest
 *    BATCH records (3 x BATCH steps) per transaction through the bulk
 *    path (registry_record_steps). A registration refused for possible
 *    duplicates (generated namesakes) has them resolved as distinct births
 *    by the registrar (signed events, counted and printed) and is retried;
 *  - `audit verify` over the whole log.
 * With CIVREG_BENCH_KEEP=1 the data directory is kept; `--audit DATA` then
 * measures only `audit verify` over it (beside the same anchors), so the
 * audit of a large log can be re-run without building it again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_people.h"
#include "bench_util.h"
#include "core/err.h"
#include "core/secret.h"
#include "db/datadir.h"
#include "db/db.h"
#include "registry/registry.h"
#include "registry/search.h"

static const char usage[] =
    "usage: registry [RECORDS] [BATCH] [--single N] [--import N] [--import-batch N]\n"
    "                [--json FILE]\n"
    "  RECORDS   records taken from draft to registered (default 100000)\n"
    "  BATCH     records per transaction on the bulk path (3 steps each, default 500)\n"
    "  --single N  how many of RECORDS go one transaction per step (default 1000)\n"
    "  --import N  drafts through the bulk import path first (default RECORDS, 0: none)\n"
    "  --import-batch N  drafts per import transaction (default 2000, as `civreg record\n"
    "              import`)\n"
    "  --json FILE write the figures as JSON\n"
    "  --audit DATA  only `audit verify` over the data directory DATA (one kept with\n"
    "              CIVREG_BENCH_KEEP=1)\n"
    "Prints the anchors measured in the same run (Ed25519, SHA-256, bare SQLite inserts).\n";

static void die(const char *what, const struct err *err)
{
    fprintf(stderr, "bench registry: %s: %s\n", what, err_msg(err));
    exit(1);
}

/* Generated people whose names and birth dates resemble each other's (the
 * syllable names of bench_people.h, birth dates days apart: with 100,000
 * people over 96 years dates alone cannot keep them apart) can score as
 * possible duplicates; registration then refuses record ID, as it would
 * refuse a namesake in an office. The benchmark acts as the registrar would:
 * each open candidate pair of ID is resolved as distinct births (a signed
 * record.duplicate event, what `civreg duplicates resolve --distinct`
 * logs), counted in *RESOLVED, and the registration is tried again.
 * Returns 0 once registered; -1 with ERR (the refusal) when ID has no open
 * candidate left to resolve or a resolution fails. */
static int register_namesake(struct db *db, struct registry_actor *r, const char *id,
                             long *resolved, struct err *err)
{
    for (int round = 0; round < 4; round++) {
        json_t *cands = NULL, *c, *res = NULL;
        struct err lerr = ERR_INIT;
        size_t k;
        long open = 0;

        if (registry_dup_list(db, r, id, &cands, &lerr) != 0) {
            *err = lerr;
            return -1;
        }
        json_array_foreach(cands, k, c)
        {
            const char *rid = json_string_value(json_object_get(c, "record_id"));
            const char *oid = json_string_value(json_object_get(c, "other_id"));
            const char *st = json_string_value(json_object_get(c, "status"));
            if (!rid || !oid || !st || strcmp(st, "open") != 0)
                continue;
            if (registry_dup_resolve(db, r, rid, oid, false,
                                     "benchmark: generated namesakes, distinct births",
                                     &lerr) != 0) {
                json_decref(cands);
                *err = lerr;
                return -1;
            }
            open++;
        }
        json_decref(cands);
        if (open == 0)
            return -1; /* refused for something else: ERR says what */
        *resolved += open;
        err_clear(err);
        if (registry_record_register(db, r, id, &res, err) == 0) {
            json_decref(res);
            return 0;
        }
    }
    return -1;
}

static int one_record(struct db *db, struct registry_actor *a, struct registry_actor *b,
                      struct registry_actor *r, json_t *rec, long i, long *resolved,
                      struct err *err)
{
    char *id = NULL;
    json_t *res = NULL;
    int rc;

    bench_person(rec, i);
    rc = registry_record_draft(db, a, rec, &id, err) != 0 ||
                 registry_record_verify(db, b, id, rec, NULL, err) != 0 ||
                 (registry_record_register(db, r, id, &res, err) != 0 &&
                  register_namesake(db, r, id, resolved, err) != 0)
             ? -1
             : 0;
    if (rc != 0 && id)
        err_prefix(err, "person %ld (%s)", i, id);
    free(id);
    json_decref(res);
    return rc;
}

/* People FIRST... taken from draft to registered, BATCH at a time in one
 * transaction of 3 x BATCH steps (registry_record_steps): the batch's
 * drafts, then their verifications, then their registrations, as an office
 * digitizing a volume would. In that order the search index's rows are
 * written in ascending rowids within each third, so SQLite's FTS5 keeps them
 * pending in memory; a registration (which rewrites the row of a record
 * drafted before the last one) right after each draft would make FTS5
 * write its pending terms out as a new index segment every record. */

/* The example record made into generated person N (exits on out of memory,
 * naming WHAT). */
static json_t *bench_record(const char *what, long n)
{
    json_t *rec = registry_record_example();
    struct err err = ERR_INIT;

    if (rec == NULL) {
        err_set(&err, "out of memory");
        die(what, &err);
    }
    bench_person(rec, n);
    return rec;
}

static void bulk_records(struct db *db, struct registry_actor *a, struct registry_actor *b,
                         struct registry_actor *r, long first, long n, long batch,
                         long *resolved)
{
    struct registry_step *steps = calloc((size_t)batch * 3, sizeof *steps);
    json_t **recs = calloc((size_t)batch, sizeof *recs);
    struct err err = ERR_INIT;

    if (!steps || !recs) {
        err_set(&err, "out of memory");
        die("bulk", &err);
    }
    for (long done = 0; done < n;) {
        size_t k = (size_t)(n - done < batch ? n - done : batch);
        for (size_t i = 0; i < k; i++) {
            recs[i] = bench_record("bulk", first + done + (long)i);
            steps[i] = (struct registry_step){ .kind = REGISTRY_STEP_DRAFT, .actor = a,
                                               .record = recs[i] };
            steps[k + i] = (struct registry_step){ .kind = REGISTRY_STEP_VERIFY, .actor = b,
                                                   .record = recs[i], .draft = i };
            steps[2 * k + i] = (struct registry_step){ .kind = REGISTRY_STEP_REGISTER,
                                                       .actor = r, .draft = i };
        }
        if (registry_record_steps(db, steps, 3 * k, &err) < 0)
            die("bulk", &err);
        /* a registration held back by possible duplicates was refused alone:
         * resolve them and register it after the batch */
        for (size_t i = 0; i < 3 * k; i++) {
            if (!steps[i].done &&
                (i < 2 * k || !steps[i - 2 * k].done || !steps[i - k].done ||
                 register_namesake(db, r, steps[i - 2 * k].new_id, resolved, &steps[i].err) != 0)) {
                err_prefix(&steps[i].err, "person %ld", first + done + (long)(i % k));
                die("bulk: a step was refused", &steps[i].err);
            }
        }
        registry_steps_release(steps, 3 * k);
        for (size_t i = 0; i < k; i++)
            json_decref(recs[i]);
        done += (long)k;
    }
    free(steps);
    free(recs);
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

/* N drafts (people FIRST...) through the import path, BATCH per call;
 * *CPU the process's CPU seconds, *OWN the calling thread's (the batch's,
 * generating the drafts included). */
static double import_drafts(struct db *db, struct registry_actor *a, long first, long n,
                            long batch, double *cpu, double *own)
{
    json_t **recs = calloc((size_t)batch, sizeof *recs);
    char **ids = calloc((size_t)batch, sizeof *ids);
    bool *already = calloc((size_t)batch, sizeof *already);
    long *lines = calloc((size_t)batch, sizeof *lines);
    struct err *errs = calloc((size_t)batch, sizeof *errs);
    struct registry_import_source src = {
        "0000000000000000000000000000000000000000000000000000000000be4c11", lines
    };
    struct err err = ERR_INIT;
    double t0;

    if (!recs || !ids || !already || !lines || !errs) {
        err_set(&err, "out of memory");
        die("import", &err);
    }
    t0 = bench_now();
    *cpu = bench_cpu();
    *own = bench_thread_cpu();
    for (long done = 0; done < n;) {
        size_t k = (size_t)(n - done < batch ? n - done : batch);
        int added;
        for (size_t i = 0; i < k; i++) {
            recs[i] = bench_record("import", first + done + (long)i);
            lines[i] = done + (long)i + 1;
            errs[i] = (struct err)ERR_INIT;
        }
        added = registry_record_import_batch(db, a, &src, recs, k, ids, already, errs, &err);
        if (added < 0)
            die("import", &err);
        for (size_t i = 0; i < k; i++) {
            if (ids[i] == NULL)
                die("import: a draft was refused", &errs[i]);
            free(ids[i]);
            json_decref(recs[i]);
        }
        done += (long)k;
    }
    t0 = bench_now() - t0;
    *cpu = bench_cpu() - *cpu;
    *own = bench_thread_cpu() - *own;
    free(recs);
    free(ids);
    free(already);
    free(lines);
    free(errs);
    return t0;
}

/* `audit verify` over DB (RECORDS, or -1: say how many record versions the
 * audit found), timed; prints and records the figures. */
static void bench_audit(struct db *db, const struct datadir *dd, long records)
{
    struct registry_audit_stats stats;
    struct err err = ERR_INIT;
    double t0 = bench_now(), c0 = bench_cpu(), own0 = bench_thread_cpu(), t_audit, c_audit, own;
    int problems = registry_audit_verify(db, dd->keys_dir, dd->blobs_dir, NULL, count, NULL,
                                         &stats, &err);

    t_audit = bench_now() - t0;
    c_audit = bench_cpu() - c0;
    own = bench_thread_cpu() - own0;
    if (problems != 0)
        die("audit verify", &err);
    printf("audit verify over %ld records: %llu events (and %llu signed tree heads) in %.2f s = "
           "%.0f events verified/s (%.2f CPU s, all threads: %.0f events per CPU second)\n",
           records >= 0 ? records : (long)stats.records, (unsigned long long)stats.events, (unsigned long long)stats.tree_heads, t_audit,
           (double)stats.events / t_audit, c_audit, (double)stats.events / c_audit);
    /* the audit's own thread (the replay, in log order): the serial part */
    printf("audit verify, its own thread: %.2f CPU s = %.1f us an event\n", own,
           stats.events ? own * 1e6 / (double)stats.events : 0.0);
    bench_figure("audit.cpu_s", c_audit, "cpu-s");
    bench_figure("audit.thread_cpu_s", own, "cpu-s");
    bench_figure("audit.events_per_s", (double)stats.events / t_audit, "events/s");
    bench_figure("audit.events_per_cpu_s", (double)stats.events / c_audit, "events/cpu-s");
}

/* libsodium, a fresh folder BASE (BASE_LEN bytes) under $TMPDIR, and the
 * registry anchors measured in it. 0, or -1 when the folder cannot be made. */
static int bench_start(char *base, size_t base_len)
{
    const char *tmp = getenv("TMPDIR");
    struct err err = ERR_INIT;

    if (secret_init(&err) != 0)
        die("libsodium", &err);
    db_library_init(); /* before the anchors' SQLite: the registry's set-up */
    snprintf(base, base_len, "%s/civreg-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(base) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    bench_anchors_registry(base, 0.5);
    return 0;
}

/* --audit DATA: the anchors, then the audit of an existing data directory. */
static int audit_only(const char *data)
{
    char base[4096];
    struct datadir *dd = NULL;
    struct db *db = NULL;
    struct err err = ERR_INIT;

    if (bench_start(base, sizeof base) != 0)
        return 1;
    bench_remove_dir("registry", base);
    if (datadir_open(data, &dd, &err) != 0 || datadir_db_open(dd, 0, &db, &err) != 0)
        die(data, &err);
    bench_audit(db, dd, -1);
    db_close(db);
    datadir_free(dd);
    return bench_write_json("registry") != 0;
}

int main(int argc, char **argv)
{
    long total = 100000, batch = 500, single = 1000, import = -1, i, resolved = 0;
    long import_batch = REGISTRY_IMPORT_BATCH;
    char base[4096], path[4200], cmd[4300];
    struct datadir *dd = NULL;
    struct db *db = NULL;
    struct registry_actor *admin = NULL, *a = NULL, *b = NULL, *r = NULL;
    struct err err = ERR_INIT;
    json_t *rec = NULL;
    double t0, t_single, t_batch, t_import = 0, c0, c_import = 0, c_import_own = 0, c_batch_own, c_single,
        c_batch;
    int pos = 0, o = bench_options(&argc, argv, usage);

    if (o != 0)
        return o > 0 ? 0 : 2;
    if (argc >= 2 && strcmp(argv[1], "--audit") == 0) {
        if (argc != 3) {
            fputs(usage, stderr);
            return 2;
        }
        return audit_only(argv[2]);
    }
    rec = registry_record_example(); /* after the options: --help builds nothing */
    for (int k = 1; k < argc; k++) {
        char *end = NULL;
        long v;
        const char *arg = argv[k];
        bool named = strcmp(arg, "--single") == 0 || strcmp(arg, "--import") == 0 ||
                     strcmp(arg, "--import-batch") == 0;
        if (named && k + 1 < argc)
            arg = argv[++k];
        v = strtol(arg, &end, 10);
        if (end == arg || *end != '\0' || v < 0 || (named && k + 1 > argc)) {
            fputs(usage, stderr);
            json_decref(rec);
            return 2;
        }
        if (named)
            *(strcmp(argv[k - 1], "--single") == 0   ? &single
              : strcmp(argv[k - 1], "--import") == 0 ? &import
                                                     : &import_batch) = v;
        else if (pos == 0 && ++pos)
            total = v;
        else if (pos == 1 && ++pos)
            batch = v;
        else {
            fputs(usage, stderr);
            json_decref(rec);
            return 2;
        }
    }
    if (total < 1 || batch < 1 || import_batch < 1 || import_batch > REGISTRY_BATCH_MAX ||
        rec == NULL) {
        fputs(usage, stderr);
        json_decref(rec);
        return 2;
    }
    if (single > total)
        single = total;
    if (import < 0)
        import = total;
    if (bench_start(base, sizeof base) != 0)
        return 1;
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

    /* imported drafts are other people (numbered after the registered ones,
     * born a century earlier: see bench_people.h), so the registered ones are
     * checked against them too */
    if (import > 0) {
        t_import = import_drafts(db, a, BENCH_IMPORTED_FIRST, import, import_batch, &c_import,
                                 &c_import_own);
        printf("record import (bulk path, %ld drafts per transaction, duplicate detection against"
               " what is stored): %ld drafts in %.2f s = %.0f drafts/s (%.0f per CPU second;"
               " the batch's thread %.1f us CPU per draft, bound %.0f drafts/s)\n",
               import_batch, import, t_import, (double)import / t_import,
               (double)import / c_import, c_import_own * 1e6 / (double)import, (double)import / c_import_own);
        bench_figure("import.drafts_per_s", (double)import / t_import, "drafts/s");
        bench_figure("import.drafts_per_cpu_s", (double)import / c_import, "drafts/cpu-s");
        bench_figure("import.batch_thread_us_per_draft", c_import_own * 1e6 / (double)import,
                     "us");
    }

    t0 = bench_now();
    c0 = bench_cpu();
    for (i = 0; i < single; i++)
        if (one_record(db, a, b, r, rec, i, &resolved, &err) != 0)
            die("record", &err);
    t_single = bench_now() - t0;
    c_single = bench_cpu() - c0;

    t0 = bench_now();
    c0 = bench_cpu();
    c_batch_own = bench_thread_cpu();
    bulk_records(db, a, b, r, i, total - i, batch, &resolved);
    t_batch = bench_now() - t0;
    c_batch = bench_cpu() - c0;
    c_batch_own = bench_thread_cpu() - c_batch_own;

    if (single > 0) {
        printf("records draft -> verified -> registered, one transaction per step: %ld in %.2f s"
               " = %.0f records/s (%.0f per CPU second)\n",
               single, t_single, (double)single / t_single, (double)single / c_single);
        bench_figure("register.single_records_per_cpu_s", (double)single / c_single,
                     "records/cpu-s");
        bench_figure("register.single_records_per_s", (double)single / t_single, "records/s");
    }
    if (total > single) {
        printf("records draft -> verified -> registered, bulk (registry_record_steps), %ld records"
               " (%ld steps) per transaction: %ld in %.2f s = %.0f records/s (%.0f per CPU second;"
               " the batch's thread %.1f us CPU per record, bound %.0f records/s)\n",
               batch, 3 * batch, total - single, t_batch, (double)(total - single) / t_batch,
               (double)(total - single) / c_batch, c_batch_own * 1e6 / (double)(total - single),
               (double)(total - single) / c_batch_own);
        bench_figure("register.bulk_batch_thread_us_per_record",
                     c_batch_own * 1e6 / (double)(total - single), "us");
        bench_figure("register.bulk_records_per_cpu_s", (double)(total - single) / c_batch,
                     "records/cpu-s");
        bench_figure("register.bulk_records_per_s", (double)(total - single) / t_batch,
                     "records/s");
    }
    /* each pair resolved is one more signed event in the log the audit reads */
    printf("possible duplicates among the generated people resolved as distinct births by the"
           " registrar (one signed record.duplicate event each, in the times above): %ld\n",
           resolved);
    bench_figure("register.namesake_pairs_resolved", (double)resolved, "pairs");
    bench_audit(db, dd, total + import);

    registry_actor_free(admin);
    registry_actor_free(a);
    registry_actor_free(b);
    registry_actor_free(r);
    json_decref(rec);
    db_close(db);
    datadir_free(dd);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (getenv("CIVREG_BENCH_KEEP") && *getenv("CIVREG_BENCH_KEEP")) /* to audit it again */
        printf("data directory kept: %s/data\n", base);
    else if (system(cmd) != 0)
        fprintf(stderr, "bench registry: could not remove %s\n", base);
    return bench_write_json("registry") != 0;
}
