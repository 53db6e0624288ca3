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
 * measures national search latency (p50/p99 over 200 given names alone and
 * 200 given and family names) and the time for one office's offline month
 * of E events (default 100,000) to catch up.
 *
 * With --conns C > 1 the batches of C offices are pushed at once, each on a
 * connection of its own (national serve gives each request a worker and a
 * connection): the events/s are those of the group's wall time, the CPU
 * that of the process and of the C backends over it.
 *
 * Run against a throw-away database at the national tier's settings:
 * CIVREG_PG_CONF=install/national-postgresql.conf tests/support/pg_cluster.sh
 * start DIR, then `national init`. Prints one figure per line. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/encode.h"
#include "core/fanout.h"
#include "core/json.h"
#include "core/secret.h"
#include "registry/national/national_int.h"
#include "../bench_util.h"
#include "../hashed_name.h"

static const char usage[] =
    "usage: national --pg URL [--offices N] [--persons P] [--batch B] [--catchup E]\n"
    "                [--gen-threads T] [--verify-threads V] [--search-rows S]\n"
    "                [--conns C] [--preload R] [--json FILE]\n"
    "\n"
    "N simulated district offices (default 50) push P persons in all (default\n"
    "20000; two signed events each) in batches of B events (default 2000)\n"
    "into the national tier at URL (a throw-away database: it registers\n"
    "offices there); then national search p50/p99 over 200 given names alone\n"
    "and over 200 given and family names, and the time for one office's\n"
    "offline month of E events (default 100000) to catch up. The events\n"
    "are built and signed on T threads (default 2); national_push parses\n"
    "and verifies the events on V threads (default 0: one per processor,\n"
    "at most 8), verifying signatures while PostgreSQL takes the rows.\n"
    "Anchors measured in the same run: Ed25519 verify/sign, batch verify and a\n"
    "bare COPY.\n"
    "--conns C (default 1) pushes C offices' batches at once, each through\n"
    "its own PostgreSQL connection (as `national serve` does for offices\n"
    "pushing together): the push figures are then those of the group.\n"
    "--search-rows S adds S registered records straight into the projection\n"
    "(no events) before the search, to measure it at a national size. Prints\n"
    "the figures; --json FILE writes them as JSON.\n"
    "--preload R adds R registered records the same way before the pushes,\n"
    "so that the push is measured into a nation of that size (its indexes,\n"
    "name keys and words) without hours of signing, then takes a CHECKPOINT\n"
    "(the pushes start a checkpoint cycle).\n"
    "It prints the server's shared_buffers, max_wal_size and checkpoint_timeout\n"
    "and the WAL the pushes wrote (pg_stat_wal: bytes, full-page images) with\n"
    "the checkpoints over them. The national tier's settings:\n"
    "CIVREG_PG_CONF=install/national-postgresql.conf tests/support/pg_cluster.sh\n"
    "start DIR.\n";

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

/* CPU seconds (user + system) of this process, every thread. */
static double cpu_s(void)
{
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0)
        return 0;
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
           (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

/* CPU seconds this process spent inside national_push (verification,
 * parsing, COPY text; not PostgreSQL's). */
static double push_cpu;

/* CPU seconds of the threads that called national_push, inside it: the
 * client's work in log order (its verification and parse threads are
 * not counted), the part of the push that no second core shortens. */
static double push_thread_cpu;
static pthread_mutex_t push_thread_mu = PTHREAD_MUTEX_INITIALIZER;

static double thread_cpu_s(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0)
        return 0;
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The bench's PostgreSQL backends (a server on this machine): their CPU
 * seconds inside national_push, read from /proc (a server elsewhere: not
 * counted). */
static double push_server_cpu;

/* A connection the pushes go through, and its backend's process id. */
struct conn {
    struct pg *pg;
    long backend_pid;
};

static double backend_cpu_s(long backend_pid)
{
    char path[64], line[1024], *p;
    unsigned long long ut, st;
    FILE *f;

    if (backend_pid <= 0)
        return 0;
    (void)snprintf(path, sizeof path, "/proc/%ld/stat", backend_pid);
    if ((f = fopen(path, "r")) == NULL)
        return 0;
    p = fgets(line, sizeof line, f);
    (void)fclose(f);
    /* after the command name's closing parenthesis: state is field 3,
     * utime and stime fields 14 and 15 */
    if (p == NULL || (p = strrchr(line, ')')) == NULL)
        return 0;
    for (int field = 2; field < 14 && p != NULL; field++)
        p = strchr(p + 1, ' ');
    if (p == NULL)
        return 0;
    ut = strtoull(p + 1, &p, 10);
    st = strtoull(p, NULL, 10);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void die(const char *what, const struct err *err)
{
    fprintf(stderr, "bench national: %s: %s\n", what, err_msg(err));
    exit(1);
}

/* The signed event SEQ of office O (canonical body); its leaf into
 * o->leaves[SEQ] (room made by the caller). Thread-safe for distinct SEQs. */
static json_t *make_event(struct office_sim *o, uint64_t seq, const char *actor,
                          const unsigned char *sk, const char *type, json_t *objects,
                          json_t *data)
{
    struct buf body = BUF_INIT(1 << 20);
    struct err err = ERR_INIT;
    unsigned char sig[64];
    char sig_hex[129], now[] = "2026-12-01T00:00:00Z";
    crypto_hash_sha256_state hs;
    json_t *out;
    json_t *ev = json_pack("{s:i, s:I, s:s, s:s, s:s, s:s, s:o, s:o}", "v", 2, "seq",
                           (json_int_t)seq, "type", type, "actor", actor, "office", o->code,
                           "time", now, "objects", objects, "data", data);
    if (ev == NULL || json_canonical(ev, &body, &err) != 0)
        die("event", &err);
    crypto_sign_detached(sig, NULL, body.data, body.len, sk);
    hex_encode(sig, sizeof sig, sig_hex);
    crypto_hash_sha256_init(&hs);
    crypto_hash_sha256_update(&hs, (const unsigned char *)"\x00", 1);
    crypto_hash_sha256_update(&hs, body.data, body.len);
    crypto_hash_sha256_update(&hs, sig, sizeof sig);
    crypto_hash_sha256_final(&hs, o->leaves[seq]);
    out = json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)seq, "body", buf_str(&body),
                    "signature", sig_hex);
    json_decref(ev);
    buf_release(&body);
    return out;
}

static void reserve_leaves(struct office_sim *o, uint64_t n)
{
    if (o->size + n <= o->cap)
        return;
    while (o->cap < o->size + n)
        o->cap = o->cap ? o->cap * 2 : 1024;
    o->leaves = realloc(o->leaves, o->cap * sizeof *o->leaves);
    if (o->leaves == NULL)
        exit(1);
}

/* Append one signed event to EVENTS (single-threaded callers). */
static void add_event(struct office_sim *o, json_t *events, const char *actor,
                      const unsigned char *sk, const char *type, json_t *objects, json_t *data)
{
    reserve_leaves(o, 1);
    json_array_append_new(events, make_event(o, o->size, actor, sk, type, objects, data));
    o->size++;
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

/* One birth of person K with UIN as events SEQ (record.draft) and SEQ + 1
 * (record.register with the signed link): *DRAFT, *REG and the version
 * text *VERSION. Thread-safe for distinct SEQs. */
static void make_birth(struct office_sim *o, unsigned k, const char *uin, uint64_t seq,
                       json_t **draft, json_t **reg, json_t **version)
{
    struct buf canon = BUF_INIT(1 << 20), st = BUF_INIT(1 << 20);
    struct err err = ERR_INIT;
    char given[16], family[16], date[16], id[64], hash[65], person_hash[65], link_hash[65],
        regno[40], link_id[128], sig_hex[129];
    unsigned char sig[64];
    json_t *rec, *person, *statement, *link;

    hashed_name(k, 1, 3, given, sizeof given);
    hashed_name(k, 2, 3, family, sizeof family);
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
    *version = json_pack("{s:s, s:i, s:s}", "record_id", id, "version", 1, "data",
                         buf_str(&canon));
    *draft = make_event(o, seq, "reg", o->usk, "record.draft",
                        json_pack("[o]", registry_object_ref("record", id, hash, NULL)),
                        json_pack("{s:i, s:s, s:[]}", "version", 1, "status", "draft",
                                  "evidence"));
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
    *reg = make_event(o, seq + 1, "reg", o->usk, "record.register",
                      json_pack("[o, o, o]", registry_object_ref("record", id, hash, NULL),
                                registry_object_ref("person", uin, person_hash, NULL),
                                registry_object_ref("link", link_id, link_hash, NULL)),
                      json_pack("{s:i, s:s, s:s, s:s, s:o}", "version", 1, "status",
                                "registered", "registration_number", regno, "uin", uin, "link",
                                link));
    json_decref(rec);
    json_decref(person);
    json_decref(statement);
    buf_release(&canon);
    buf_release(&st);
}

/* Births K0 .. K0+COUNT-1 of office O appended to EVENTS and VERSIONS,
 * built and signed on GEN_THREADS threads (real Ed25519 signatures, the
 * leaves in o->leaves). */
static unsigned gen_threads = 2;

struct gen_job {
    struct office_sim *o;
    unsigned k0;
    uint64_t seq0;
    const char **uins;
    json_t **slots; /* 3 per birth: draft, register, version */
    size_t lo, hi;
};

static void *gen_range(void *arg)
{
    struct gen_job *j = arg;
    for (size_t i = j->lo; i < j->hi; i++)
        make_birth(j->o, j->k0 + (unsigned)i, j->uins[i], j->seq0 + 2 * i, &j->slots[3 * i],
                   &j->slots[3 * i + 1], &j->slots[3 * i + 2]);
    return NULL;
}

static void add_births(struct pg *pg, struct office_sim *o, unsigned k0, size_t count,
                       json_t *events, json_t *versions)
{
    struct gen_job jobs[64];
    const char **uins = calloc(count ? count : 1, sizeof *uins);
    json_t **slots = calloc(count ? 3 * count : 1, sizeof *slots);
    unsigned t = gen_threads > 64 ? 64 : gen_threads ? gen_threads : 1;

    if (uins == NULL || slots == NULL)
        exit(1);
    /* a new block drops the old one: keep copies */
    for (size_t i = 0; i < count; i++)
        if ((uins[i] = strdup(take_uin(pg, o))) == NULL)
            exit(1);
    reserve_leaves(o, 2 * count);
    if (count < 64)
        t = 1;
    for (unsigned w = 0; w < t; w++)
        jobs[w] = (struct gen_job){ o, k0, o->size, uins, slots, count * w / t,
                                    count * (w + 1) / t };
    fanout_run(jobs, t, sizeof *jobs, gen_range);
    for (size_t i = 0; i < count; i++) {
        json_array_append_new(events, slots[3 * i]);
        json_array_append_new(events, slots[3 * i + 1]);
        json_array_append_new(versions, slots[3 * i + 2]);
        free((void *)uins[i]);
    }
    o->size += 2 * count;
    free(uins);
    free(slots);
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
static void push_one(struct pg *pg, struct office_sim *o, json_t *events, json_t *versions)
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
    if (national_push(pg, o->code, req, &out, &err) != NATIONAL_OK)
        die("push", &err);
    o->pushed = o->size;
    json_decref(out);
    json_decref(req);
    buf_release(&body);
}

/* One office's batch, pushed on a connection of its own. */
struct push_slot {
    struct conn *c;
    struct office_sim *o;
    json_t *events, *versions;
};

static void *push_slot_run(void *arg)
{
    struct push_slot *s = arg;
    double t0 = thread_cpu_s();
    push_one(s->c->pg, s->o, s->events, s->versions);
    t0 = thread_cpu_s() - t0;
    (void)pthread_mutex_lock(&push_thread_mu);
    push_thread_cpu += t0;
    (void)pthread_mutex_unlock(&push_thread_mu);
    return NULL;
}

/* Push the N batches of S at once (each on its own connection; the first
 * on this thread): the wall time, with the CPU of this process and of the
 * N backends over it added to push_cpu and push_server_cpu. */
static double push_group(struct push_slot *s, unsigned n)
{
    pthread_t th[64];
    bool started[64] = { false };
    double t0 = now_s(), c0 = cpu_s(), b0 = 0, b1 = 0;

    for (unsigned k = 0; k < n; k++)
        b0 += backend_cpu_s(s[k].c->backend_pid);
    for (unsigned k = 1; k < n; k++)
        started[k] = pthread_create(&th[k], NULL, push_slot_run, &s[k]) == 0;
    (void)push_slot_run(&s[0]);
    for (unsigned k = 1; k < n; k++) {
        if (started[k])
            (void)pthread_join(th[k], NULL);
        else
            (void)push_slot_run(&s[k]);
    }
    t0 = now_s() - t0;
    push_cpu += cpu_s() - c0;
    for (unsigned k = 0; k < n; k++)
        b1 += backend_cpu_s(s[k].c->backend_pid);
    push_server_cpu += b1 - b0;
    return t0;
}

/* One batch on connection C. */
static double push(struct conn *c, struct office_sim *o, json_t *events, json_t *versions)
{
    struct push_slot s = { c, o, events, versions };
    return push_group(&s, 1);
}

/* Anchor: rows per second of a bare COPY of N events-shaped rows (about
 * the width of a signed birth event) into a table with the events table's
 * primary key, in one committed transaction; the table is dropped after. */
static double anchor_copy(struct pg *pg, unsigned n)
{
    struct buf b = BUF_INIT((size_t)1 << 30);
    struct err err = ERR_INIT;
    char body[420], seq[24];
    double t0, t;

    memset(body, 'x', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    for (unsigned i = 0; i < n; i++) {
        (void)snprintf(seq, sizeof seq, "%u", i);
        if (buf_printf(&b, "B999\t%s\trecord.draft\treg\t2026-12-01T00:00:00Z\t%s\t%0128d\t%064d\n",
                       seq, body, 0, 0) != 0)
            die("anchor copy", &err);
    }
    if (pg_exec(pg, "DROP TABLE IF EXISTS bench_anchor_copy", 0, NULL, NULL, &err) != 0 ||
        pg_exec(pg,
                "CREATE TABLE bench_anchor_copy (office text, seq bigint, type text, actor text,"
                " time text, body text, signature text, leaf_hash text,"
                " PRIMARY KEY (office, seq))",
                0, NULL, NULL, &err) != 0)
        die("anchor copy", &err);
    t0 = now_s();
    if (pg_begin(pg, &err) != 0 ||
        pg_copy(pg,
                "COPY bench_anchor_copy(office, seq, type, actor, time, body, signature,"
                " leaf_hash) FROM STDIN",
                (const char *)b.data, b.len, &err) != 0 ||
        pg_commit(pg, &err) != 0)
        die("anchor copy", &err);
    t = now_s() - t0;
    if (pg_exec(pg, "DROP TABLE bench_anchor_copy", 0, NULL, NULL, &err) != 0)
        die("anchor copy", &err);
    buf_release(&b);
    return n / t;
}

/* --search-rows N: N more registered birth records written straight into
 * the projection by COPY (no events, no signatures: the search's own scale
 * without hours of signing), spread over 50 offices S000..S049 with names
 * from the same generator. The search figures then cover the pushed records
 * and these. */
static void fill_search_rows(struct pg *pg, unsigned n, unsigned k0)
{
    struct buf b = BUF_INIT((size_t)1 << 30);
    struct err err = ERR_INIT;

    for (unsigned i = 0; i < n; i++) {
        unsigned k = k0 + i;
        char given[16], family[16], date[16], *key;
        hashed_name(k, 1, 3, given, sizeof given);
        hashed_name(k, 2, 3, family, sizeof family);
        snprintf(date, sizeof date, "19%02u-%02u-%02u", 40 + k % 59, 1 + k % 12, 1 + k % 28);
        if ((key = nat_name_key(given, family)) == NULL ||
            buf_printf(&b, "S%03u\tS%03u-R-%020u\t1\t%064u\tregistered\tS%03u/1990/%08u\t%s\t%s\t0\n",
                       k % 50, k % 50, k, k, k % 50, k, key, date) != 0)
            die("search rows", &err);
        free(key);
        if (b.len > (64u << 20) || i + 1 == n) {
            if (pg_copy(pg,
                        "COPY birth_records(office, record_id, version, hash, status,"
                        " registration_number, name_key, birth_date, event_seq) FROM STDIN",
                        (const char *)b.data, b.len, &err) != 0)
                die("search rows", &err);
            buf_reset(&b);
        }
    }
    buf_release(&b);
    /* the keys' words national search looks in, as a push adds them (the
     * vocabulary follows, by name_words' trigger) */
    if (pg_exec(pg,
                "INSERT INTO name_words(word, name_key) SELECT DISTINCT x, name_key"
                " FROM birth_records, unnest(string_to_array(name_key, ' ')) x"
                " WHERE office BETWEEN 'S000' AND 'S049' AND x <> '' ORDER BY 1, 2"
                " ON CONFLICT DO NOTHING",
                0, NULL, NULL, &err) != 0)
        die("search rows", &err);
}

/* The server's WAL and checkpoint counters (pg_stat_wal, pg_stat_bgwriter:
 * the whole cluster's, i.e. the bench's on a throw-away one), each
 * connection's pending statistics flushed first. */
struct wal_stat {
    double records, fpi, bytes, checkpoints;
    /* the server's other processes (checkpointer, background and WAL
     * writers, autovacuum): their ids and CPU seconds, from /proc */
    unsigned nother;
    long other_pid[64];
    double other_cpu[64];
};

/* The CPU seconds the server's other processes spent from A to B (those
 * alive at B; a process that ended between is not counted). */
static double other_cpu_s(const struct wal_stat *a, const struct wal_stat *b)
{
    double s = 0;
    for (unsigned i = 0; i < b->nother; i++) {
        double c0 = 0;
        for (unsigned j = 0; j < a->nother; j++)
            if (a->other_pid[j] == b->other_pid[i])
                c0 = a->other_cpu[j];
        s += b->other_cpu[i] - c0;
    }
    return s;
}

static void wal_stat(const struct conn *conns, unsigned n, struct wal_stat *w)
{
    struct pg_res *r = NULL;
    struct err err = ERR_INIT;
    int rows;

    /* each backend sends its counters as it goes idle after this */
    for (unsigned c = 0; c < n; c++)
        if (pg_exec(conns[c].pg, "SELECT pg_stat_force_next_flush()", 0, NULL, NULL, &err) != 0)
            die("wal statistics", &err);
    if (pg_exec(conns[0].pg,
                "SELECT w.wal_records, w.wal_fpi, w.wal_bytes,"
                " b.checkpoints_timed + b.checkpoints_req"
                " FROM pg_stat_wal w, pg_stat_bgwriter b",
                0, NULL, &r, &err) != 0)
        die("wal statistics", &err);
    w->records = strtod(pg_res_value(r, 0, 0), NULL);
    w->fpi = strtod(pg_res_value(r, 0, 1), NULL);
    w->bytes = strtod(pg_res_value(r, 0, 2), NULL);
    w->checkpoints = strtod(pg_res_value(r, 0, 3), NULL);
    pg_res_free(r);
    if (pg_exec(conns[0].pg,
                "SELECT pid FROM pg_stat_activity WHERE backend_type <> 'client backend'", 0,
                NULL, &r, &err) != 0)
        die("server processes", &err);
    rows = pg_res_rows(r);
    w->nother = 0;
    for (int i = 0; i < rows && w->nother < 64; i++, w->nother++) {
        w->other_pid[w->nother] = strtol(pg_res_value(r, i, 0), NULL, 10);
        w->other_cpu[w->nother] = backend_cpu_s(w->other_pid[w->nother]);
    }
    pg_res_free(r);
}

/* The server settings the push's cost depends on, printed beside the
 * anchors (install/national-postgresql.conf against a test cluster's). */
static void print_settings(struct pg *pg)
{
    struct pg_res *r = NULL;
    struct err err = ERR_INIT;

    if (pg_exec(pg,
                "SELECT current_setting('shared_buffers'), current_setting('max_wal_size'),"
                " current_setting('checkpoint_timeout'), current_setting('wal_buffers')",
                0, NULL, &r, &err) != 0)
        die("settings", &err);
    printf("server: shared_buffers %s, max_wal_size %s, checkpoint_timeout %s, wal_buffers %s\n",
           pg_res_value(r, 0, 0), pg_res_value(r, 0, 1), pg_res_value(r, 0, 2),
           pg_res_value(r, 0, 3));
    pg_res_free(r);
}

static void print_load(const char *when)
{
    double l[3] = { 0, 0, 0 };
    if (getloadavg(l, 3) == 3)
        printf("load average %s: %.2f %.2f %.2f\n", when, l[0], l[1], l[2]);
    bench_figuref(l[0], "load", "load_average_%s", when);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    unsigned offices = 50, persons = 20000, batch = 2000, catchup = 100000, search_rows = 0;
    unsigned nconns = 1, preload = 0;
    struct office_sim *o;
    struct conn conns[64];
    struct pg *pg = NULL;
    struct err err = ERR_INIT;
    double push_time = 0, gen_time = 0, wall;
    struct wal_stat wal0, wal1;
    uint64_t pushed_events = 0;
    unsigned long long trips = 0, pushes = 0;
    unsigned verify_threads = 0; /* 0: the library's own choice */
    const struct {
        const char *name;
        unsigned *to;
        unsigned long min, max;
    } nums[] = {
        { "--offices", &offices, 1, 1000 },
        { "--persons", &persons, 1, 100000000 },
        { "--batch", &batch, 2, 10000 },
        { "--catchup", &catchup, 0, 100000000 },
        { "--gen-threads", &gen_threads, 1, 64 },
        { "--search-rows", &search_rows, 0, 100000000 },
        { "--verify-threads", &verify_threads, 0, 64 },
        { "--conns", &nconns, 1, 64 },
        { "--preload", &preload, 0, 100000000 },
    };

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
        size_t k = 0;
        while (k < sizeof nums / sizeof nums[0] && strcmp(argv[i], nums[k].name) != 0)
            k++;
        if (k < sizeof nums / sizeof nums[0])
            *nums[k].to = num_arg(nums[k].name, argv[i + 1], nums[k].min, nums[k].max);
        else if (strcmp(argv[i], "--pg") == 0)
            url = argv[i + 1];
        else {
            fprintf(stderr, "national: unknown option %s\n%s", argv[i], usage);
            return 2;
        }
    }
    national_set_verify_threads(verify_threads);
    if (url == NULL) {
        fprintf(stderr, "national: --pg URL is required\n%s", usage);
        return 2;
    }
    if (nconns > offices) {
        fprintf(stderr, "national: --conns must not exceed --offices\n%s", usage);
        return 2;
    }
    if (secret_init(&err) != 0 || pg_open(url, &pg, &err) != 0 || pg_migrate(pg, NULL, &err) != 0)
        die("start", &err);
    for (unsigned c = 0; c < nconns; c++) {
        struct pg_res *r = NULL;
        conns[c].pg = pg;
        if ((c > 0 && pg_open(url, &conns[c].pg, &err) != 0) ||
            pg_exec(conns[c].pg, "SELECT pg_backend_pid()", 0, NULL, &r, &err) != 0)
            die("backend pid", &err);
        conns[c].backend_pid = strtol(pg_res_value(r, 0, 0), NULL, 10);
        pg_res_free(r);
    }
    o = calloc(offices, sizeof *o);
    if (o == NULL) {
        fprintf(stderr, "bench national: out of memory\n");
        return 1;
    }
    print_load("start");
    {
        double v = bench_anchor_ed25519_verify(1.0), sg = bench_anchor_ed25519_sign(1.0),
               bv = bench_anchor_ed25519_batch_verify(1.0), c = anchor_copy(pg, 50000);
        printf("anchor: Ed25519 verify %.0f/s, sign %.0f/s, batch verify %.0f/s (%d a batch;"
               " one thread); bare COPY of 50,000 events-shaped rows into a keyed table"
               " %.0f rows/s\n",
               v, sg, bv, ED_BATCH_MAX, c);
        bench_figure("anchor_ed25519_verify_per_s", v, "1/s");
        bench_figure("anchor_ed25519_batch_verify_per_s", bv, "1/s");
        bench_figure("anchor_ed25519_sign_per_s", sg, "1/s");
        bench_figure("anchor_copy_rows_per_s", c, "rows/s");
    }
    print_settings(pg);
    if (preload > 0) {
        /* numbered after the search rows: their record ids differ */
        double t0 = now_s();
        fill_search_rows(pg, preload, persons + catchup + search_rows);
        /* then a checkpoint: the pushes start a checkpoint cycle, each page
         * they change first paying its full-page image, whatever the
         * preload's WAL left of the last cycle */
        if (pg_exec(pg, "ANALYZE", 0, NULL, NULL, &err) != 0 ||
            pg_exec(pg, "CHECKPOINT", 0, NULL, NULL, &err) != 0)
            die("preload", &err);
        printf("records added straight into the projection before the pushes: %u in %.1f s\n",
               preload, now_s() - t0);
        bench_figure("preload_records", preload, "records");
    }
    /* register the offices and push their first two events */
    for (unsigned i = 0; i < offices; i++) {
        json_t *ev = json_array(), *vs = json_array();
        char pk[65];
        start_office(&o[i], i, ev);
        hex_encode(o[i].opk, 32, pk);
        if (national_office_add(pg, o[i].code, pk, &err) != 0)
            die("office", &err);
        (void)push(&conns[0], &o[i], ev, vs);
        json_decref(ev);
        json_decref(vs);
    }
    /* persons spread over the offices, pushed in batches; the statements'
     * statistics, when the server keeps them, are the pushes' from here */
    {
        struct pg_res *r = NULL;
        if (pg_exec(pg, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'",
                    0, NULL, &r, &err) != 0 ||
            (strcmp(pg_res_value(r, 0, 0), "0") != 0 &&
             pg_exec(pg, "SELECT pg_stat_statements_reset()", 0, NULL, NULL, &err) != 0))
            die("pg_stat_statements", &err);
        pg_res_free(r);
    }
    wal_stat(conns, nconns, &wal0);
    wall = now_s();
    for (unsigned k = 0; k < persons;) {
        for (unsigned i = 0; i < offices && k < persons;) {
            /* the next batches of up to nconns offices, pushed at once */
            struct push_slot g[64];
            unsigned n = 0;
            for (; n < nconns && i < offices && k < persons; n++, i++) {
                size_t m = batch / 2 < persons - k ? batch / 2 : persons - k;
                double g0 = now_s();
                g[n] = (struct push_slot){ &conns[n], &o[i], json_array(), json_array() };
                add_births(pg, &o[i], k, m, g[n].events, g[n].versions);
                gen_time += now_s() - g0;
                k += (unsigned)m;
                pushed_events += json_array_size(g[n].events);
                trips -= pg_round_trips(conns[n].pg);
            }
            push_time += push_group(g, n);
            for (unsigned c = 0; c < n; c++) {
                trips += pg_round_trips(conns[c].pg);
                pushes++;
                json_decref(g[c].events);
                json_decref(g[c].versions);
            }
        }
    }
    wall = now_s() - wall;
    wal_stat(conns, nconns, &wal1);
    printf("offices %u, persons %u, events pushed %llu, batch %u, offices pushing at once %u\n",
           offices, persons, (unsigned long long)pushed_events, batch, nconns);
    printf("sync throughput (verify + store + project, in national_push): %.0f events/s\n",
           pushed_events / push_time);
    printf("CPU of this process inside national_push: %.2f s, %.0f events per CPU second\n",
           push_cpu, pushed_events / push_cpu);
    bench_figure("sync_client_cpu_s", push_cpu, "s");
    printf("of which the pushing thread (parse and verification threads apart): %.2f s,"
           " %.1f us an event\n", push_thread_cpu, push_thread_cpu * 1e6 / pushed_events);
    bench_figure("sync_client_thread_cpu_s", push_thread_cpu, "s");
    if (push_server_cpu > 0) {
        printf("CPU of its PostgreSQL backend inside national_push: %.2f s; client and"
               " backend together %.1f us an event, %.0f events per CPU second\n",
               push_server_cpu, (push_cpu + push_server_cpu) * 1e6 / pushed_events,
               pushed_events / (push_cpu + push_server_cpu));
        bench_figure("sync_server_cpu_s", push_server_cpu, "s");
        bench_figure("sync_events_per_cpu_s", pushed_events / (push_cpu + push_server_cpu),
                     "events/s");
    }
    printf("sync throughput including building the signed events: %.0f events/s\n",
           pushed_events / wall);
    printf("building and signing the simulated events: %.0f events/s on %u threads\n",
           pushed_events / gen_time, gen_threads);
    printf("requests to PostgreSQL per push: %.1f (%llu pushes)\n",
           pushes ? (double)trips / (double)pushes : 0.0, pushes);
    printf("WAL over the pushes (pg_stat_wal): %.1f MB, %.0f records, %.0f full-page images;"
           " %.0f bytes and %.3f images an event; checkpoints %.0f\n",
           (wal1.bytes - wal0.bytes) / 1e6, wal1.records - wal0.records, wal1.fpi - wal0.fpi,
           (wal1.bytes - wal0.bytes) / (double)pushed_events,
           (wal1.fpi - wal0.fpi) / (double)pushed_events, wal1.checkpoints - wal0.checkpoints);
    bench_figure("sync_wal_bytes_per_event", (wal1.bytes - wal0.bytes) / (double)pushed_events,
                 "bytes");
    bench_figure("sync_wal_fpi_per_event", (wal1.fpi - wal0.fpi) / (double)pushed_events,
                 "images");
    bench_figure("sync_checkpoints", wal1.checkpoints - wal0.checkpoints, "checkpoints");
    printf("CPU of the server's other processes over the pushes (checkpointer, writers,"
           " autovacuum): %.2f s; with this process and its backends %.1f us an event\n",
           other_cpu_s(&wal0, &wal1),
           (push_cpu + push_server_cpu + other_cpu_s(&wal0, &wal1)) * 1e6 / pushed_events);
    bench_figure("sync_server_other_cpu_s", other_cpu_s(&wal0, &wal1), "s");
    bench_figure("generate_events_per_s", pushed_events / gen_time, "events/s");
    bench_figure("offices", offices, "offices");
    bench_figure("conns", nconns, "connections");
    bench_figure("persons", persons, "persons");
    bench_figure("sync_events_per_s", pushed_events / push_time, "events/s");
    bench_figure("sync_events_per_s_with_signing", pushed_events / wall, "events/s");
    /* search */
    if (search_rows > 0) {
        double t0 = now_s();
        fill_search_rows(pg, search_rows, persons + catchup);
        printf("search rows added straight into the projection (search-only load: no events,"
               " no signatures): %u in %.1f s\n",
               search_rows,
               now_s() - t0);
        bench_figure("search_rows_added", search_rows, "records");
    }
    /* the statistics autovacuum would have gathered by now, and the
     * visibility map it would have set on name_words (its keys then come
     * from the index alone): the search is measured as planned on a settled
     * database, not on the push's tail */
    if (pg_exec(pg, "ANALYZE birth_records", 0, NULL, NULL, &err) != 0 ||
        pg_exec(pg, "ANALYZE name_vocab", 0, NULL, NULL, &err) != 0 ||
        pg_exec(pg, "VACUUM (ANALYZE) name_words", 0, NULL, NULL, &err) != 0)
        die("analyze", &err);
    /* given names alone (hundreds of keys match each), then given and
     * family name (the record itself first) */
    for (int full = 0; full < 2; full++) {
        double lat[200];
        for (int q = 0; q < 200; q++) {
            char given[16], family[16], name[40];
            unsigned k = (unsigned)rand() % persons;
            json_t *res = NULL;
            double t0;
            hashed_name(k, 1, 3, given, sizeof given);
            hashed_name(k, 2, 3, family, sizeof family);
            (void)snprintf(name, sizeof name, "%s %s", given, full ? family : "");
            t0 = now_s();
            if (national_search(pg, name, 10, &res, &err) != 0)
                die("search", &err);
            lat[q] = (now_s() - t0) * 1000;
            json_decref(res);
        }
        qsort(lat, 200, sizeof lat[0], cmp_d);
        printf("national search over %u records, %s: p50 %.1f ms, p99 %.1f ms\n",
               persons + search_rows + preload,
               full ? "given and family name" : "given name alone",
               lat[100], lat[197]);
        bench_figure(full ? "search_full_p50_ms" : "search_p50_ms", lat[100], "ms");
        bench_figure(full ? "search_full_p99_ms" : "search_p99_ms", lat[197], "ms");
    }
    /* one office offline for a month: CATCHUP events in one sync */
    if (catchup >= 2) {
        json_t *ev = json_array(), *vs = json_array();
        double t = 0, t0 = now_s();
        unsigned k = persons;
        uint64_t n0 = o[0].size;
        while (o[0].size - n0 + 2 <= catchup) {
            size_t m = (catchup - (o[0].size - n0)) / 2;
            if (m > batch / 2)
                m = batch / 2;
            add_births(pg, &o[0], k, m, ev, vs);
            k += (unsigned)m;
            t += push(&conns[0], &o[0], ev, vs);
            json_array_clear(ev);
            json_array_clear(vs);
        }
        printf("offline month of %llu events caught up in %.1f s (%.1f s in national_push)\n",
               (unsigned long long)(o[0].size - n0), now_s() - t0, t);
        bench_figure("catchup_events", (double)(o[0].size - n0), "events");
        bench_figure("catchup_s", now_s() - t0, "s");
        json_decref(ev);
        json_decref(vs);
    }
    print_load("end");
    for (unsigned i = 0; i < offices; i++) {
        free(o[i].leaves);
        json_decref(o[i].uins);
    }
    secret_wipe(o, offices * sizeof *o);
    free(o);
    for (unsigned c = 1; c < nconns; c++)
        pg_close(conns[c].pg);
    pg_close(pg);
    return bench_write_json("national") == 0 ? 0 : 1;
}
