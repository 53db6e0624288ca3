/* bench/national: the national tier's throughput on this machine.
 *
 *   national --pg URL [--offices N] [--persons P] [--batch B] [--catchup E]
 *
 * Simulates N district offices (each with its own office key and registrar
 * key) holding P persons in all: for every person a record.draft and a
 * record.register event with the signed link, exactly as a district log
 * holds them, pushed in batches of B events with the signed tree head and
 * the RFC 6962 consistency proof, through the same national_push the
 * service runs (in process: no HTTP, so the figures are the verification
 * and PostgreSQL cost). UINs are drawn from national UIN blocks. Then it
 * measures national search latency (p50/p99 over 200 queries) and the time
 * for one office's offline month of E events (default 100,000) to catch up.
 *
 * Run against a throw-away database: tests/support/pg_cluster.sh start DIR,
 * then `national init`. Prints one figure per line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/secret.h"
#include "registry/national/national_int.h"
#include "../bench_util.h"

static const char usage[] =
    "usage: national --pg URL [--offices N] [--persons P] [--batch B] [--catchup E]\n"
    "                [--json FILE]\n"
    "\n"
    "N simulated district offices (default 50) push P persons in all (default\n"
    "20000; two signed events each) in batches of B events (default 2000)\n"
    "into the national tier at URL (a throw-away database: it registers\n"
    "offices there); then national search p50/p99 over 200 name queries and\n"
    "the time for one office's offline month of E events (default 100000) to\n"
    "catch up. Prints the figures; --json FILE writes them as JSON.\n";

/* A whole number from MIN to MAX, or exit 2 with the usage. */
static unsigned num_arg(const char *opt, const char *v, unsigned long min, unsigned long max)
{
    char *end = NULL;
    unsigned long n = strtoul(v, &end, 10);
    if (end == v || *end != '\0' || v[0] == '-' || n < min || n > max) {
        fprintf(stderr, "national: %s must be a number from %lu to %lu\n%s", opt, min, max,
                usage);
        exit(2);
    }
    return (unsigned)n;
}

struct office_sim {
    char code[9];
    unsigned char opk[32], osk[64], upk[32], usk[64];
    merkle_hash *leaves;
    uint64_t size, cap, pushed;
    json_t *uins; /* reserved, not yet used */
    size_t next_uin;
    unsigned records;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const struct err *err)
{
    fprintf(stderr, "bench national: %s: %s\n", what, err_msg(err));
    exit(1);
}

static void syl_name(unsigned k, unsigned part, char *out, size_t size)
{
    static const char *const syl[] = { "ka", "mo", "te", "ri", "su", "na", "lo", "bi",
                                       "du", "fe", "ga", "hu", "ji", "ku", "ma", "ne",
                                       "po", "ra", "si", "to", "vu", "wa", "ya", "ze" };
    uint64_t x = ((uint64_t)k * 2654435761u + part * 40503u) ^ 0x9e3779b97f4a7c15ull;
    size_t len = 0;
    for (int i = 0; i < 3 && len + 3 < size; i++) {
        x ^= x >> 13;
        x *= 0xff51afd7ed558ccdull;
        x ^= x >> 29;
        memcpy(out + len, syl[x % 24], 2);
        len += 2;
    }
    out[len] = '\0';
    out[0] = (char)(out[0] - 32);
}

/* Append one signed event (canonical body) to EVENTS and its leaf to O. */
static void add_event(struct office_sim *o, json_t *events, const char *actor,
                      const unsigned char *sk, const char *type, json_t *objects, json_t *data)
{
    struct buf body = BUF_INIT(1 << 20);
    struct err err = ERR_INIT;
    unsigned char sig[64];
    char sig_hex[129], now[] = "2026-12-01T00:00:00Z";
    crypto_hash_sha256_state hs;
    json_t *ev = json_pack("{s:i, s:I, s:s, s:s, s:s, s:s, s:o, s:o}", "v", 2, "seq",
                           (json_int_t)o->size, "type", type, "actor", actor, "office", o->code,
                           "time", now, "objects", objects, "data", data);
    if (ev == NULL || json_canonical(ev, &body, &err) != 0)
        die("event", &err);
    crypto_sign_detached(sig, NULL, body.data, body.len, sk);
    hex_encode(sig, sizeof sig, sig_hex);
    if (o->size == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 1024;
        o->leaves = realloc(o->leaves, o->cap * sizeof *o->leaves);
        if (o->leaves == NULL)
            exit(1);
    }
    crypto_hash_sha256_init(&hs);
    crypto_hash_sha256_update(&hs, (const unsigned char *)"\x00", 1);
    crypto_hash_sha256_update(&hs, body.data, body.len);
    crypto_hash_sha256_update(&hs, sig, sizeof sig);
    crypto_hash_sha256_final(&hs, o->leaves[o->size]);
    json_array_append_new(events, json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)o->size,
                                            "body", buf_str(&body), "signature", sig_hex));
    o->size++;
    json_decref(ev);
    buf_release(&body);
}

static const char *take_uin(struct pg *pg, struct office_sim *o)
{
    struct err err = ERR_INIT;
    if (o->uins == NULL || o->next_uin >= json_array_size(json_object_get(o->uins, "uins"))) {
        json_decref(o->uins);
        o->uins = NULL;
        if (national_uin_block(pg, o->code, 5000, &o->uins, &err) != NATIONAL_OK)
            die("uin block", &err);
        o->next_uin = 0;
    }
    return json_string_value(json_array_get(json_object_get(o->uins, "uins"), o->next_uin++));
}

/* One birth: record.draft then record.register; the version text into VERSIONS. */
static void add_birth(struct pg *pg, struct office_sim *o, unsigned k, json_t *events,
                      json_t *versions)
{
    struct buf canon = BUF_INIT(1 << 20), st = BUF_INIT(1 << 20);
    struct err err = ERR_INIT;
    char given[16], family[16], date[16], id[64], hash[65], person_hash[65], link_hash[65],
        regno[40], link_id[128], sig_hex[129];
    unsigned char sig[64];
    const char *uin = take_uin(pg, o);
    json_t *rec, *person, *statement, *link;

    syl_name(k, 1, given, sizeof given);
    syl_name(k, 2, family, sizeof family);
    snprintf(date, sizeof date, "19%02u-%02u-%02u", 40 + k % 59, 1 + k % 12, 1 + k % 28);
    snprintf(id, sizeof id, "%s-R-%020u", o->code, k);
    rec = json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s},"
                    " s:{s:s, s:i, s:s, s:i, s:i}, s:[]}",
                    "child", "given_names", given, "family_name", family, "sex", "female",
                    "birth", "date", date, "place_type", "home", "locality", "Town", "district",
                    o->code, "mother", "given_names", "Mama", "family_name", family, "register",
                    "office", o->code, "year", 1990, "volume", "1", "page", 1, "entry",
                    (int)(k % 1000) + 1, "evidence");
    if (json_canonical(rec, &canon, &err) != 0)
        die("record", &err);
    reg_sha256_hex(canon.data, canon.len, hash);
    json_array_append_new(versions, json_pack("{s:s, s:i, s:s}", "record_id", id, "version", 1,
                                              "data", buf_str(&canon)));
    add_event(o, events, "reg", o->usk, "record.draft",
              json_pack("[o]", registry_object_ref("record", id, hash, NULL)),
              json_pack("{s:i, s:s, s:[]}", "version", 1, "status", "draft", "evidence"));
    person = json_pack("{s:s, s:s}", "uin", uin, "record_id", id);
    if (registry_json_hash(person, person_hash, &err) != 0)
        die("person", &err);
    statement = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:[], s:s, s:s}", "type",
                          "civreg.link.v1", "uin", uin, "record_id", id, "record_version", 1,
                          "record_hash", hash, "person_hash", person_hash, "evidence",
                          "registrar", "reg", "time", "2026-12-01T00:00:00Z");
    if (json_canonical(statement, &st, &err) != 0)
        die("link", &err);
    reg_sha256_hex(st.data, st.len, link_hash);
    crypto_sign_detached(sig, NULL, st.data, st.len, o->usk);
    hex_encode(sig, sizeof sig, sig_hex);
    link = json_pack("{s:O, s:s, s:s}", "statement", statement, "signature", sig_hex, "signer",
                     "reg");
    snprintf(regno, sizeof regno, "%s/1990/%06u", o->code, k);
    snprintf(link_id, sizeof link_id, "%s:%s:1", uin, id);
    add_event(o, events, "reg", o->usk, "record.register",
              json_pack("[o, o, o]", registry_object_ref("record", id, hash, NULL),
                        registry_object_ref("person", uin, person_hash, NULL),
                        registry_object_ref("link", link_id, link_hash, NULL)),
              json_pack("{s:i, s:s, s:s, s:s, s:o}", "version", 1, "status", "registered",
                        "registration_number", regno, "uin", uin, "link", link));
    json_decref(rec);
    json_decref(person);
    json_decref(statement);
    buf_release(&canon);
    buf_release(&st);
}

static void start_office(struct office_sim *o, unsigned i, json_t *events)
{
    char opk[65], upk[65];
    snprintf(o->code, sizeof o->code, "B%03u", i % 1000);
    crypto_sign_keypair(o->opk, o->osk);
    crypto_sign_keypair(o->upk, o->usk);
    hex_encode(o->opk, 32, opk);
    hex_encode(o->upk, 32, upk);
    {
        char actor[16];
        snprintf(actor, sizeof actor, "office:%s", o->code);
        add_event(o, events, actor, o->osk, "office.key", json_array(),
                  json_pack("{s:s, s:s}", "office", o->code, "public_key", opk));
    }
    add_event(o, events, "reg", o->usk, "user.add", json_array(),
              json_pack("{s:s, s:s, s:[s], s:s}", "username", "reg", "office", o->code, "roles",
                        "registrar", "public_key", upk));
}

/* Push EVENTS (from o->pushed to o->size) with head and consistency proof. */
static double push(struct pg *pg, struct office_sim *o, json_t *events, json_t *versions)
{
    struct merkle_mem mem = { (const merkle_hash *)o->leaves, o->size };
    struct merkle_source src;
    merkle_hash root, path[MERKLE_MAX_PROOF];
    struct buf body = BUF_INIT(4096);
    struct err err = ERR_INIT;
    char root_hex[65], sig_hex[129], t[] = "2026-12-01T00:00:00Z";
    unsigned char sig[64];
    size_t n = 0;
    json_t *proof = json_array(), *req, *out = NULL;
    double t0;

    merkle_mem_source(&mem, &src);
    if (merkle_root(&src, o->size, root, &err) != 0 ||
        (o->pushed > 0 && merkle_consistency_proof(&src, o->pushed, o->size, path, &n, &err) != 0))
        die("proof", &err);
    for (size_t i = 0; i < n; i++) {
        char h[65];
        hex_encode(path[i], 32, h);
        json_array_append_new(proof, json_string(h));
    }
    hex_encode(root, 32, root_hex);
    if (reg_tree_head_body(o->code, o->size, root_hex, t, &body, &err) != 0)
        die("head", &err);
    crypto_sign_detached(sig, NULL, body.data, body.len, o->osk);
    hex_encode(sig, sizeof sig, sig_hex);
    req = json_pack("{s:I, s:O, s:O, s:{s:I, s:s, s:s, s:s}, s:o}", "from",
                    (json_int_t)o->pushed, "events", events, "versions", versions, "head",
                    "tree_size", (json_int_t)o->size, "root_hash", root_hex, "time", t,
                    "signature", sig_hex, "consistency", proof);
    t0 = now_s();
    if (national_push(pg, o->code, req, &out, &err) != NATIONAL_OK)
        die("push", &err);
    t0 = now_s() - t0;
    o->pushed = o->size;
    json_decref(out);
    json_decref(req);
    buf_release(&body);
    return t0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    unsigned offices = 50, persons = 20000, batch = 2000, catchup = 100000;
    struct office_sim *o;
    struct pg *pg = NULL;
    struct err err = ERR_INIT;
    double push_time = 0, wall;
    uint64_t pushed_events = 0;

    switch (bench_options(&argc, argv, usage)) {
    case 1: return 0;
    case -1: return 2;
    default: break;
    }
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc) {
            fprintf(stderr, "national: %s needs a value\n%s", argv[i], usage);
            return 2;
        }
        if (strcmp(argv[i], "--pg") == 0)
            url = argv[i + 1];
        else if (strcmp(argv[i], "--offices") == 0)
            offices = num_arg("--offices", argv[i + 1], 1, 1000);
        else if (strcmp(argv[i], "--persons") == 0)
            persons = num_arg("--persons", argv[i + 1], 1, 100000000);
        else if (strcmp(argv[i], "--batch") == 0)
            batch = num_arg("--batch", argv[i + 1], 2, 10000);
        else if (strcmp(argv[i], "--catchup") == 0)
            catchup = num_arg("--catchup", argv[i + 1], 0, 100000000);
        else {
            fprintf(stderr, "national: unknown option %s\n%s", argv[i], usage);
            return 2;
        }
    }
    if (url == NULL) {
        fprintf(stderr, "national: --pg URL is required\n%s", usage);
        return 2;
    }
    if (secret_init(&err) != 0 || pg_open(url, &pg, &err) != 0 || pg_migrate(pg, NULL, &err) != 0)
        die("start", &err);
    o = calloc(offices, sizeof *o);
    /* register the offices and push their first two events */
    for (unsigned i = 0; i < offices; i++) {
        json_t *ev = json_array(), *vs = json_array();
        char pk[65];
        start_office(&o[i], i, ev);
        hex_encode(o[i].opk, 32, pk);
        if (national_office_add(pg, o[i].code, pk, &err) != 0)
            die("office", &err);
        push(pg, &o[i], ev, vs);
        json_decref(ev);
        json_decref(vs);
    }
    /* persons spread over the offices, pushed in batches */
    wall = now_s();
    for (unsigned k = 0; k < persons;) {
        for (unsigned i = 0; i < offices && k < persons; i++) {
            json_t *ev = json_array(), *vs = json_array();
            for (unsigned b = 0; b + 2 <= batch && k < persons; b += 2, k++)
                add_birth(pg, &o[i], k, ev, vs);
            pushed_events += json_array_size(ev);
            push_time += push(pg, &o[i], ev, vs);
            json_decref(ev);
            json_decref(vs);
        }
    }
    wall = now_s() - wall;
    printf("offices %u, persons %u, events pushed %llu, batch %u\n", offices, persons,
           (unsigned long long)pushed_events, batch);
    printf("sync throughput (verify + store + project, in national_push): %.0f events/s\n",
           pushed_events / push_time);
    printf("sync throughput including building the signed events: %.0f events/s\n",
           pushed_events / wall);
    bench_figure("offices", offices, "offices");
    bench_figure("persons", persons, "persons");
    bench_figure("sync_events_per_s", pushed_events / push_time, "events/s");
    bench_figure("sync_events_per_s_with_signing", pushed_events / wall, "events/s");
    /* search */
    {
        double lat[200];
        for (int q = 0; q < 200; q++) {
            char given[16];
            json_t *res = NULL;
            double t0;
            syl_name((unsigned)rand() % persons, 1, given, sizeof given);
            t0 = now_s();
            if (national_search(pg, given, 10, &res, &err) != 0)
                die("search", &err);
            lat[q] = (now_s() - t0) * 1000;
            json_decref(res);
        }
        qsort(lat, 200, sizeof lat[0], cmp_d);
        printf("national search over %u records: p50 %.1f ms, p99 %.1f ms\n", persons, lat[100],
               lat[197]);
        bench_figure("search_p50_ms", lat[100], "ms");
        bench_figure("search_p99_ms", lat[197], "ms");
    }
    /* one office offline for a month: CATCHUP events in one sync */
    if (catchup >= 2) {
        json_t *ev = json_array(), *vs = json_array();
        double t = 0, t0 = now_s();
        unsigned k = persons;
        uint64_t n0 = o[0].size;
        while (o[0].size - n0 + 2 <= catchup) {
            add_birth(pg, &o[0], k++, ev, vs);
            if (json_array_size(ev) + 2 > batch) {
                t += push(pg, &o[0], ev, vs);
                json_array_clear(ev);
                json_array_clear(vs);
            }
        }
        if (json_array_size(ev) > 0)
            t += push(pg, &o[0], ev, vs);
        printf("offline month of %llu events caught up in %.1f s (%.1f s in national_push)\n",
               (unsigned long long)(o[0].size - n0), now_s() - t0, t);
        bench_figure("catchup_events", (double)(o[0].size - n0), "events");
        bench_figure("catchup_s", now_s() - t0, "s");
        json_decref(ev);
        json_decref(vs);
    }
    pg_close(pg);
    return bench_write_json("national") == 0 ? 0 : 1;
}
