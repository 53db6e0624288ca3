/* bench/search: median and p99 latency of registry_search over a generated
 * population (default 1,000,000 records; `search N` for another size).
 * The population is indexed through the registry's bulk path in
 * transactions of 10,000; the queries are the realistic variants of the
 * search-quality test (typos, transliterations, swapped names, missing
 * accents, partial dates). Prints the build time, latencies and recall. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "search_population.h"
#include "core/buf.h"
#include "core/secret.h"
#include "db/db.h"
#include "registry/search.h"

#define QUERIES 2000

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    enum { CHUNK = 10000 };
    long n = 1000000;
    char path[] = "/tmp/civreg-bench-search-XXXXXX";
    char dbpath[sizeof path + 16];
    struct db *db = NULL;
    struct err err = ERR_INIT;
    struct pop_rng r = { 0x9e3779b97f4a7c15ULL }, qr = { 0x5151ULL };
    struct pop_person *people;
    struct registry_search_entry *e;
    char (*ids)[24];
    double t0, *lat;
    int hits = 0;

    static const char usage[] =
        "usage: search [N] [--json FILE]\n"
        "  indexes N generated people (1000 to 20000000, default 1000000) through the bulk\n"
        "  path, then times 2,000 realistic queries (median, p99, recall@10)\n";
    int o = bench_args(&argc, argv, usage, 0, 1);
    if (o != 0)
        return o > 0 ? 0 : 2;
    if (argc > 1 && bench_long(argv[1], 1000, 20000000, &n) != 0) {
        fputs(usage, stderr);
        return 2;
    }
    if (secret_init(&err) != 0 || mkdtemp(path) == NULL) {
        fprintf(stderr, "search: cannot set up: %s\n", err_msg(&err));
        return 1;
    }
    {
        double ib = bench_anchor_sqlite_insert(path, 1000, 0.5);
        printf("anchor: bare SQLite insert (600 B rows, WAL, synchronous=FULL, 1,000 per commit)"
               " %.0f rows/s\n", ib);
        bench_figure("anchor.sqlite_insert_1000_per_commit", ib, "rows/s");
    }
    (void)snprintf(dbpath, sizeof dbpath, "%s/s.db", path);
    if (db_open(dbpath, DB_OPEN_CREATE | DB_OPEN_MIGRATE, &db, &err) != 0) {
        fprintf(stderr, "search: %s\n", err_msg(&err));
        return 1;
    }
    people = calloc((size_t)n, sizeof *people);
    e = calloc(CHUNK, sizeof *e);
    ids = calloc(CHUNK, sizeof *ids);
    lat = calloc(QUERIES, sizeof *lat);
    if (!people || !e || !ids || !lat)
        return 1;
    t0 = now_ms();
    for (long base = 0; base < n; base += CHUNK) {
        size_t k = (size_t)(n - base < CHUNK ? n - base : CHUNK);
        for (size_t i = 0; i < k; i++) {
            pop_person_make(&r, &people[base + (long)i]);
            (void)snprintf(ids[i], sizeof ids[i], "P%ld", base + (long)i);
            e[i] = (struct registry_search_entry){ ids[i], "HQ", "registered",
                                                    pop_record(&people[base + (long)i]), NULL,
                                                    NULL };
        }
        if (registry_search_index_put_many(db, e, k, &err) != 0) {
            fprintf(stderr, "search: %s\n", err_msg(&err));
            return 1;
        }
        for (size_t i = 0; i < k; i++)
            json_decref((json_t *)e[i].record);
    }
    printf("indexed %ld records in %.1f s = %.0f records/s\n", n, (now_ms() - t0) / 1e3,
           (double)n * 1e3 / (now_ms() - t0));
    bench_figure("search.index_records_per_s", (double)n * 1e3 / (now_ms() - t0), "records/s");
    for (int i = 0; i < QUERIES; i++) {
        unsigned who = pop_below(&qr, (unsigned)n);
        char q[512], id[24];
        json_t *res = NULL;
        double t;
        pop_query(&qr, &people[who], (enum pop_variant)(i % POP_VARIANTS), q, sizeof q);
        (void)snprintf(id, sizeof id, "P%u", who);
        t = now_ms();
        if (registry_search(db, NULL, q, 10, &res, &err) != 0) {
            fprintf(stderr, "search '%s': %s\n", q, err_msg(&err));
            return 1;
        }
        lat[i] = now_ms() - t;
        {
            const json_t *row;
            size_t k;
            json_array_foreach(json_object_get(res, "results"), k, row)
                if (strcmp(json_string_value(json_object_get(row, "record_id")), id) == 0)
                    hits++;
        }
        json_decref(res);
    }
    qsort(lat, QUERIES, sizeof *lat, cmp_double);
    printf("%d queries over %ld records: median %.2f ms, p99 %.2f ms, max %.2f ms; "
           "recall@10 %.3f\n",
           QUERIES, n, lat[QUERIES / 2], lat[QUERIES * 99 / 100], lat[QUERIES - 1],
           (double)hits / QUERIES);
    bench_figure("search.p50_ms", lat[QUERIES / 2], "ms");
    bench_figure("search.p99_ms", lat[QUERIES * 99 / 100], "ms");
    bench_figure("search.recall_at_10", (double)hits / QUERIES, "ratio");
    db_close(db);
    (void)unlink(dbpath);
    {
        char side[sizeof dbpath + 8];
        (void)snprintf(side, sizeof side, "%s-wal", dbpath);
        (void)unlink(side);
        (void)snprintf(side, sizeof side, "%s-shm", dbpath);
        (void)unlink(side);
    }
    (void)rmdir(path);
    free(people);
    free(e);
    free(ids);
    free(lat);
    return bench_write_json("search") != 0;
}
