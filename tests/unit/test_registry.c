/* Unit tests of registry/: the RFC 6962 Merkle tree against the published
 * Certificate Transparency vectors (tests/data/rfc6962_vectors.txt), UINs
 * and the Verhoeff check digit, and birth record normalization. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/secret.h"
#include "core/utf8.h"
#include "db/datadir.h"
#include "db/db.h"
#include "registry/merkle.h"
#include "registry/registry.h"
#include "support/inproc.h"
#include "support/cmocka_main.h"
#include "support/support.h"

#define MAXV 64

struct proof_vec {
    uint64_t a, b;
    merkle_hash path[MERKLE_MAX_PROOF];
    size_t n;
};

static struct {
    unsigned char leaf_in[8][16];
    size_t leaf_len[8];
    size_t leaves;
    merkle_hash roots[9];
    bool have_root[9];
    struct {
        unsigned level;
        uint64_t index;
        merkle_hash h;
    } nodes[MAXV];
    size_t n_nodes;
    struct proof_vec incl[MAXV], cons[MAXV];
    size_t n_incl, n_cons;
} v;

static void hex32(const char *s, merkle_hash out)
{
    size_t n = 0;
    assert_int_equal(hex_decode(s, 64, out, 32, &n, NULL), 0);
    assert_int_equal(n, 32);
}

static void parse_path(char *s, struct proof_vec *p)
{
    p->n = 0;
    if (strcmp(s, "-") == 0)
        return;
    for (char *c = s;; c += 65) {
        hex32(c, p->path[p->n++]);
        if (c[64] != ',')
            break;
    }
}

static int load_vectors(void **state)
{
    char *text = file_read(CIVREG_TEST_DATA "/rfc6962_vectors.txt", NULL);
    char *line, *save = NULL;
    (void)state;
    if (text == NULL)
        return -1;
    memset(&v, 0, sizeof v);
    for (line = text; line && *line; line = save) {
        char *nl = strchr(line, '\n');
        char w[5][600];
        int k = 0;
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        if (*line == '#' || *line == '\0')
            continue;
        /* split on blanks */
        for (char *p = line; *p && k < 5;) {
            size_t len = strcspn(p, " ");
            if (len >= sizeof w[0])
                return -1;
            memcpy(w[k], p, len);
            w[k++][len] = '\0';
            p += len;
            while (*p == ' ')
                p++;
        }
        if (strcmp(w[0], "leaf") == 0) {
            size_t n = 0;
            if (strcmp(w[1], "-") != 0)
                assert_int_equal(hex_decode(w[1], strlen(w[1]), v.leaf_in[v.leaves], 16, &n, NULL), 0);
            v.leaf_len[v.leaves++] = n;
        } else if (strcmp(w[0], "root") == 0) {
            unsigned long size = strtoul(w[1], NULL, 10);
            hex32(w[2], v.roots[size]);
            v.have_root[size] = true;
        } else if (strcmp(w[0], "node") == 0) {
            v.nodes[v.n_nodes].level = (unsigned)strtoul(w[1], NULL, 10);
            v.nodes[v.n_nodes].index = strtoull(w[2], NULL, 10);
            hex32(w[3], v.nodes[v.n_nodes++].h);
        } else if (strcmp(w[0], "inclusion") == 0 || strcmp(w[0], "consistency") == 0) {
            struct proof_vec *p = w[0][0] == 'i' ? &v.incl[v.n_incl++] : &v.cons[v.n_cons++];
            p->a = strtoull(w[1], NULL, 10);
            p->b = strtoull(w[2], NULL, 10);
            parse_path(w[3], p);
        }
    }
    free(text);
    return v.leaves == 8 && v.n_incl == 5 && v.n_cons == 5 ? 0 : -1;
}

/* The vectors' eight leaf hashes, as a source over the first mem.count of them */
struct vec_tree {
    merkle_hash leaves[8];
    struct merkle_mem mem;
    struct merkle_source src;
};

static void vec_tree_init(struct vec_tree *t)
{
    for (size_t i = 0; i < 8; i++)
        merkle_leaf_hash(v.leaf_in[i], v.leaf_len[i], t->leaves[i]);
    t->mem.leaves = t->leaves;
    t->mem.count = 8;
    merkle_mem_source(&t->mem, &t->src);
}

typedef int merkle_prove_fn(const struct merkle_source *src, uint64_t a, uint64_t b,
                            merkle_hash *path, size_t *n, struct err *err);

/* PROVE (inclusion or consistency) over the tree of the vector's P->B leaves
 * gives exactly the vector's path */
static void assert_vec_proof(struct vec_tree *t, merkle_prove_fn *prove, const struct proof_vec *p)
{
    merkle_hash path[MERKLE_MAX_PROOF];
    size_t n;
    t->mem.count = p->b;
    assert_int_equal(prove(&t->src, p->a, p->b, path, &n, NULL), 0);
    assert_int_equal(n, p->n);
    assert_memory_equal(path, p->path, n * 32);
}

static void test_merkle_roots_and_nodes(void **state)
{
    merkle_hash root;
    struct vec_tree t;
    struct merkle_frontier f = MERKLE_FRONTIER_INIT;
    (void)state;

    vec_tree_init(&t);
    for (uint64_t size = 0; size <= 8; size++) {
        assert_true(v.have_root[size]);
        t.mem.count = size;
        assert_int_equal(merkle_root(&t.src, size, root, NULL), 0);
        assert_memory_equal(root, v.roots[size], 32);
        /* the append-only frontier agrees at every size */
        merkle_frontier_root(&f, root);
        assert_memory_equal(root, v.roots[size], 32);
        if (size < 8)
            assert_int_equal(merkle_frontier_append(&f, t.leaves[size], NULL, NULL, NULL), 0);
    }
    t.mem.count = 8;
    for (size_t i = 0; i < v.n_nodes; i++) {
        merkle_hash h;
        assert_int_equal(t.src.node(t.src.ctx, v.nodes[i].level, v.nodes[i].index, h, NULL), 0);
        assert_memory_equal(h, v.nodes[i].h, 32);
    }
}

static void test_merkle_inclusion(void **state)
{
    merkle_hash path[MERKLE_MAX_PROOF];
    struct vec_tree t;
    size_t n;
    (void)state;

    vec_tree_init(&t);
    for (size_t i = 0; i < v.n_incl; i++) {
        const struct proof_vec *p = &v.incl[i];
        struct err err = ERR_INIT;
        assert_vec_proof(&t, merkle_inclusion_proof, p);
        assert_int_equal(merkle_verify_inclusion(p->a, p->b, t.leaves[p->a], p->path, p->n,
                                                 v.roots[p->b], &err), 0);
        /* corrupted probes must fail (after transparency-dev's verify tests) */
        if (p->a > 0)
            assert_int_not_equal(merkle_verify_inclusion(p->a - 1, p->b, t.leaves[p->a], p->path,
                                                         p->n, v.roots[p->b], NULL), 0);
        assert_int_not_equal(merkle_verify_inclusion(p->a, p->b * 2, t.leaves[p->a], p->path, p->n,
                                                     v.roots[p->b], NULL), 0);
        assert_int_not_equal(merkle_verify_inclusion(p->a, p->b, t.leaves[(p->a + 1) % 8], p->path,
                                                     p->n, v.roots[p->b], NULL), 0);
        if (p->n > 0) {
            merkle_hash bad[MERKLE_MAX_PROOF];
            memcpy(bad, p->path, p->n * 32);
            bad[p->n - 1][0] ^= 8;
            assert_int_not_equal(merkle_verify_inclusion(p->a, p->b, t.leaves[p->a], bad, p->n,
                                                         v.roots[p->b], NULL), 0);
            assert_int_not_equal(merkle_verify_inclusion(p->a, p->b, t.leaves[p->a], p->path,
                                                         p->n - 1, v.roots[p->b], NULL), 0);
        }
    }
    /* every leaf of every size proves and verifies */
    for (uint64_t size = 1; size <= 8; size++)
        for (uint64_t i = 0; i < size; i++) {
            t.mem.count = size;
            assert_int_equal(merkle_inclusion_proof(&t.src, i, size, path, &n, NULL), 0);
            assert_int_equal(merkle_verify_inclusion(i, size, t.leaves[i], path, n, v.roots[size],
                                                     NULL), 0);
        }
}

static void test_merkle_consistency(void **state)
{
    merkle_hash path[MERKLE_MAX_PROOF];
    struct vec_tree t;
    size_t n;
    (void)state;

    vec_tree_init(&t);
    for (size_t i = 0; i < v.n_cons; i++) {
        const struct proof_vec *p = &v.cons[i];
        struct err err = ERR_INIT;
        assert_vec_proof(&t, merkle_consistency_proof, p);
        assert_int_equal(merkle_verify_consistency(p->a, p->b, v.roots[p->a], v.roots[p->b],
                                                   p->path, p->n, &err), 0);
        if (p->n > 0) {
            assert_int_not_equal(merkle_verify_consistency(p->a, p->b, v.roots[p->b],
                                                           v.roots[p->a], p->path, p->n, NULL), 0);
            assert_int_not_equal(merkle_verify_consistency(p->a, p->b, v.roots[p->a],
                                                           v.roots[p->b], p->path, p->n - 1, NULL), 0);
            assert_int_not_equal(merkle_verify_consistency(p->a + 1, p->b, v.roots[p->a],
                                                           v.roots[p->b], p->path, p->n, NULL), 0);
        }
    }
    for (uint64_t b = 1; b <= 8; b++)
        for (uint64_t a = 1; a <= b; a++) {
            t.mem.count = b;
            assert_int_equal(merkle_consistency_proof(&t.src, a, b, path, &n, NULL), 0);
            assert_int_equal(merkle_verify_consistency(a, b, v.roots[a], v.roots[b], path, n, NULL), 0);
        }
}

/* The password policy: length bounds, common passwords and their usual
 * disguises, the user name; good passphrases pass. */
static void test_password_policy(void **state)
{
    static const struct {
        const char *user, *pw;
        int want;
    } cases[] = {
        { "clerk1", "password", REGISTRY_PASSWORD_TOO_SHORT },
        { "clerk1", "Tr0ub4dor&3", REGISTRY_PASSWORD_TOO_SHORT },
        { "clerk1", "passwordpassword", REGISTRY_PASSWORD_COMMON },
        { "clerk1", "Password2024!", REGISTRY_PASSWORD_COMMON },
        { "clerk1", "P@ssw0rd123456", REGISTRY_PASSWORD_COMMON },
        { "clerk1", "123456789012", REGISTRY_PASSWORD_COMMON },
        { "clerk1", "!!!!!!!!!!!!", REGISTRY_PASSWORD_COMMON },
        { "clerk1", "aaaaaaaaaaaaaaaa", REGISTRY_PASSWORD_COMMON },
        { "clerk1", "abcabcabcabc", REGISTRY_PASSWORD_COMMON },
        { "clerk1", "qwertyuiop123", REGISTRY_PASSWORD_COMMON },
        { "clerk1", "azertyuiop2024", REGISTRY_PASSWORD_COMMON },
        { "clerk1", "Motdepasse2025", REGISTRY_PASSWORD_COMMON },
        { "clerk1", "1Civreg2024!!", REGISTRY_PASSWORD_COMMON },
        { "clerk1", "welcomeadmin1", REGISTRY_PASSWORD_COMMON },
        { "clerk1", "ILoveYou2000!", REGISTRY_PASSWORD_COMMON },
        { "clerk1", "Clerk1-harbor-lamp", REGISTRY_PASSWORD_HAS_USERNAME },
        { "amira", "harbor-AMIRA-lamp", REGISTRY_PASSWORD_HAS_USERNAME },
        { "amira", "harbor-4m1ra-lamp-7", REGISTRY_PASSWORD_HAS_USERNAME },
        { "clerk1", "correct horse battery", REGISTRY_PASSWORD_OK },
        { "clerk1", "Quiet-harbor-lamp-93", REGISTRY_PASSWORD_OK },
        { "clerk1", "bench-password", REGISTRY_PASSWORD_OK },
        { "jo", "jo-likes-tea-at-noon", REGISTRY_PASSWORD_OK }, /* two letters: not checked */
        { NULL, "Éléphant-rose-vole", REGISTRY_PASSWORD_OK },
        { NULL, "éééééééééééé", REGISTRY_PASSWORD_COMMON },
        { NULL, "ééééé", REGISTRY_PASSWORD_TOO_SHORT }, /* 10 bytes, 5 characters */
    };
    struct err err = ERR_INIT;
    char *long_pw = malloc(REGISTRY_PASSWORD_MAX + 2);
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = registry_password_check(cases[i].user, cases[i].pw, &err);
        if (got != cases[i].want)
            fail_msg("%s / %s: want %s, got %s (%s)", cases[i].user ? cases[i].user : "-",
                     cases[i].pw, registry_password_problem_code(cases[i].want),
                     registry_password_problem_code(got), err_msg(&err));
    }
    assert_non_null(long_pw);
    memset(long_pw, 'k', REGISTRY_PASSWORD_MAX + 1);
    long_pw[REGISTRY_PASSWORD_MAX + 1] = '\0';
    assert_int_equal(registry_password_check("clerk1", long_pw, &err),
                     REGISTRY_PASSWORD_TOO_LONG);
    assert_string_equal(registry_password_problem_code(REGISTRY_PASSWORD_COMMON),
                        "password_common");
    free(long_pw);
}

/* Separation of duties: admin alone, every data role refused beside it. */
static void test_roles_separation(void **state)
{
    struct err err = ERR_INIT;
    (void)state;

    assert_int_equal(registry_roles_check(ROLE_ADMIN, &err), 0);
    assert_int_equal(registry_roles_check(ROLE_CLERK | ROLE_REGISTRAR | ROLE_AUDITOR, &err), 0);
    for (unsigned bit = 1; bit < ROLE_ADMIN; bit <<= 1) {
        assert_int_equal(registry_roles_check(ROLE_ADMIN | bit, &err), -1);
        assert_non_null(strstr(err_msg(&err), "separation of duties"));
    }
    assert_int_equal(registry_roles_check(0, &err), -1);
    assert_int_equal(registry_roles_check(0x80, &err), -1);
}

static void report_problem(void *ctx, const char *problem)
{
    (void)ctx;
    print_error("audit: %s\n", problem);
}

/* An actor signed in before its account changed signs nothing more, even
 * in a process that never re-checks (a long CLI run, a web request already
 * past its check): the log refuses the append in its own transaction. */
static void test_changed_account_signs_nothing(void **state)
{
    static const char pw_admin[] = "Lantern-orbit-4417", pw[] = "Quiet-harbor-lamp-93";
    struct err err = ERR_INIT;
    struct datadir *dd = NULL;
    struct db *db = NULL;
    struct registry_actor *admin = NULL, *clerk = NULL, *multi = NULL;
    json_t *rec = registry_record_example(), *log = NULL;
    char *dir = tmp_dir("changed-account"), data[4096], *id = NULL;
    uint64_t before = 0;
    (void)state;

    assert_non_null(dir);
    if (secret_init(&err) != 0)
        fail_msg("%s", err_msg(&err));
    inproc_datadir(dir, data, sizeof data, &dd, &db);
    {
        struct registry_user_new bad = { "boss", pw, ROLE_ADMIN | ROLE_AUDITOR, "HQ", false };
        struct registry_user_new weak = { "weak", "password1234", ROLE_CLERK, "HQ", false };
        struct registry_user_new forged = { "x\nINFO forged", pw, ROLE_CLERK, "HQ", false };
        inproc_user_add(db, dd->keys_dir, NULL, "admin", ROLE_ADMIN, pw_admin);
        admin = inproc_authenticate(db, dd->keys_dir, "admin", pw_admin);
        inproc_user_add(db, dd->keys_dir, admin, "clerk", ROLE_CLERK, pw);
        inproc_user_add(db, dd->keys_dir, admin, "multi", ROLE_CLERK | ROLE_REGISTRAR, pw);
        assert_int_equal(registry_user_add(db, dd->keys_dir, admin, &bad, &err), -1);
        assert_non_null(strstr(err_msg(&err), "separation of duties"));
        assert_int_equal(registry_user_add(db, dd->keys_dir, admin, &weak, &err), -1);
        assert_non_null(strstr(err_msg(&err), "too common"));
        assert_int_equal(registry_user_add(db, dd->keys_dir, admin, &forged, &err), -1);
        assert_non_null(strstr(err_msg(&err), "username"));
    }
    assert_int_equal(registry_authenticate(db, dd->keys_dir, "clerk", pw, &clerk, &err), 0);
    assert_int_equal(registry_authenticate(db, dd->keys_dir, "multi", pw, &multi, &err), 0);
    assert_int_equal(registry_actor_current(db, clerk, &err), 0);

    /* disabled: no more events */
    assert_int_equal(registry_user_disable(db, admin, "clerk", &err), 0);
    assert_int_equal(registry_actor_current(db, clerk, &err), 1);
    assert_int_equal(registry_log_head(db, &log, &err), 0);
    before = (uint64_t)json_integer_value(json_object_get(log, "tree_size"));
    json_decref(log);
    assert_int_equal(registry_record_draft(db, clerk, rec, &id, &err), -1);
    assert_non_null(strstr(err_msg(&err), "account disabled"));
    assert_null(id);
    assert_int_equal(registry_log_head(db, &log, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(log, "tree_size")), (json_int_t)before);
    json_decref(log);

    /* roles changed: the old actor signs nothing, a new sign-in does */
    assert_int_equal(registry_user_roles(db, admin, "multi", ROLE_REGISTRAR, &err), 0);
    assert_int_equal(registry_actor_current(db, multi, &err), 1);
    assert_int_equal(registry_record_draft(db, multi, rec, &id, &err), -1);
    assert_non_null(strstr(err_msg(&err), "changed since sign-in"));
    assert_int_equal(registry_user_roles(db, admin, "multi", ROLE_ADMIN | ROLE_CLERK, &err), -1);
    assert_int_equal(registry_user_roles(db, admin, "admin", ROLE_AUDITOR, &err), -1);
    registry_actor_free(multi);
    assert_int_equal(registry_authenticate(db, dd->keys_dir, "multi", pw, &multi, &err), 0);
    assert_int_equal(registry_actor_roles(multi), ROLE_REGISTRAR);
    assert_int_equal(registry_actor_current(db, multi, &err), 0);

    /* the log as the audit replays it: no event signed after a disable, the
     * roles as the user.roles event set them */
    {
        struct registry_audit_stats st;
        memset(&st, 0, sizeof st);
        assert_int_equal(registry_audit_verify(db, dd->keys_dir, dd->blobs_dir, NULL,
                                               report_problem, NULL, &st, &err),
                         0);
    }
    json_decref(rec);
    registry_actor_free(admin);
    registry_actor_free(clerk);
    registry_actor_free(multi);
    inproc_close(db, dd, &dir);
}

/* The event body as the log stores it, against json_canonical of the same
 * envelope built as a jansson object (how eventlog.c wrote it before it
 * wrote the members in order): the same bytes for many events whose type,
 * time, objects and data hold odd strings (escapes, control characters,
 * non-ASCII, keys whose UTF-16 order is not their UTF-8 order). */
static uint64_t log_size(struct db *db)
{
    return (uint64_t)sqlite_long(db_handle(db), "SELECT count(*) FROM events");
}

static void test_event_body_canonical(void **state)
{
    static const char *const odd[] = {
        "plain", "quote\" back\\slash /", "ctl \x01\x1f\x7f end", "tab\tnl\nbs\bff\fcr\r",
        "\xc3\xa9t\xc3\xa9 \xc3\xb1 \xe4\xb8\xad\xe6\x96\x87", "\xf0\x9f\x98\x80 emoji",
        "\xe2\x80\xa8 line separator", "\xef\xbf\xbf", "</script>", "",
        "\xef\xbd\x81\xcc\x81 combining", "a\\u0000b",
    };
    static const char *const times[] = { "2026-12-06T06:00:00Z", "2026-12-06T0\"\\\n\x01:00Z" };
    const size_t n_odd = sizeof odd / sizeof odd[0];
    struct err err = ERR_INIT;
    struct datadir *dd = NULL;
    struct db *db = NULL;
    struct registry_actor *admin;
    char *dir = NULL, data[4096];
    uint64_t seq = 0;
    (void)state;

    if (secret_init(&err) != 0)
        fail_msg("%s", err_msg(&err));
    admin = inproc_first_admin("event-body", &dir, data, sizeof data, &dd, &db,
                               "Lantern-orbit-4417");
    for (size_t i = 0; i < 3 * n_odd; i++) {
        const char *s = odd[i % n_odd], *t = odd[(i + 1) % n_odd], *time = NULL;
        char type[80];
        json_t *objects, *d, *expect;
        struct buf want = BUF_INIT(1 << 20);
        sqlite3_stmt *st = NULL;

        (void)snprintf(type, sizeof type, "test.%s", s);
        type[64] = '\0';
        if (!utf8_valid(type, strlen(type)))
            (void)snprintf(type, sizeof type, "test.odd.%zu", i);
        objects = json_pack("[o, o]", registry_object_ref(s, t, "00ff", NULL),
                            registry_object_ref("record", s, t, i % 2 ? s : NULL));
        d = json_pack("{s:s, s:s, s:s, s:s, s:[i, I, I, b, b, n, [], {}], s:{s:{s:s}}, s:I}",
                      s, t, "\xef\xbf\xbf", "bmp-last", "\xf0\x9f\x98\x80", "astral", "B",
                      "upper", "list", -1, (json_int_t)9007199254740991LL,
                      (json_int_t)-9007199254740991LL, 1, 0, "nested", "\xc3\xa9", t, s, "n",
                      (json_int_t)i);
        assert_non_null(objects);
        assert_non_null(d);
        if (i % 3 == 2)
            time = times[i / 3 % 2];
        if (registry_event_append_at(db, admin, type, objects, i % 5 == 4 ? NULL : d, time,
                                     &seq, &err) != 0)
            fail_msg("append %zu: %s", i, err_msg(&err));
        st = sqlite_prepare_ok(db_handle(db),
                               "SELECT body, created_at FROM events WHERE seq = ?1");
        sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        expect = json_pack("{s:i, s:I, s:s, s:s, s:s, s:s, s:O, s:o}", "v", time ? 2 : 1, "seq",
                           (json_int_t)seq, "type", type, "actor", "admin", "office", "HQ",
                           "time", (const char *)sqlite3_column_text(st, 1), "objects", objects,
                           "data", i % 5 == 4 ? json_object() : json_incref(d));
        assert_non_null(expect);
        if (json_canonical(expect, &want, &err) != 0)
            fail_msg("%s", err_msg(&err));
        assert_string_equal((const char *)sqlite3_column_text(st, 0), buf_str(&want));
        sqlite3_finalize(st);
        buf_release(&want);
        json_decref(expect);
        json_decref(objects);
        json_decref(d);
    }

    /* what json_pack refused is still refused, and nothing is appended */
    {
        json_t *real = json_pack("{s:f}", "x", 1.5), *deep = json_object();
        assert_int_equal(log_size(db), seq + 1);
        assert_int_equal(registry_event_append(db, admin, "test.\xff\xfe", NULL, NULL, NULL,
                                               &err),
                         -1);
        assert_non_null(strstr(err_msg(&err), "UTF-8"));
        assert_int_equal(registry_event_append(db, admin, "test.real", NULL, real, NULL, &err),
                         -1);
        assert_non_null(strstr(err_msg(&err), "floating-point"));
        /* nesting counts from the envelope (depth 0): data whose objects
         * reach depth 65 is refused */
        for (int l = 0; l < 64; l++) {
            json_t *up = json_object();
            assert_int_equal(json_object_set_new(up, "x", deep), 0);
            deep = up;
        }
        assert_int_equal(registry_event_append(db, admin, "test.deep", NULL, deep, NULL, &err),
                         -1);
        assert_non_null(strstr(err_msg(&err), "deeper than 64"));
        assert_int_equal(log_size(db), seq + 1);
        json_decref(real);
        json_decref(deep);
    }
    {
        struct registry_audit_stats st;
        memset(&st, 0, sizeof st);
        assert_int_equal(registry_audit_verify(db, dd->keys_dir, dd->blobs_dir, NULL,
                                               report_problem, NULL, &st, &err),
                         0);
    }
    registry_actor_free(admin);
    inproc_close(db, dd, &dir);
}

static void test_uin(void **state)
{
    struct err err = ERR_INIT;
    char uin[REGISTRY_UIN_LEN + 1];
    long first[10] = { 0 }, inner[10] = { 0 };
    (void)state;

    /* Verhoeff's published example: 236 -> check digit 3; 12345 -> 1. */
    assert_int_equal(registry_verhoeff_digit("236", 3), 3);
    assert_int_equal(registry_verhoeff_digit("12345", 5), 1);
    assert_int_equal(registry_verhoeff_digit("142857", 6), 0);
    assert_int_equal(registry_verhoeff_digit("12a", 3), -1);
    for (int i = 0; i < 20000; i++) {
        registry_uin_generate(uin);
        assert_int_equal(strlen(uin), 10);
        assert_true(uin[0] >= '2');
        first[uin[0] - '0']++;
        for (int k = 1; k < 9; k++)
            inner[uin[k] - '0']++;
        if (registry_uin_check(uin, &err) != 0)
            fail_msg("%s: %s", uin, err_msg(&err));
        for (int k = 2; k < 10; k++) {
            assert_false(uin[k] == uin[k - 1] && uin[k - 1] == uin[k - 2]);
            assert_false(uin[k] - uin[k - 1] == 1 && uin[k - 1] - uin[k - 2] == 1);
            assert_false(uin[k] - uin[k - 1] == -1 && uin[k - 1] - uin[k - 2] == -1);
        }
    }
    /* every first digit 2-9 and every inner digit about as often as the
     * others (the pattern rules turn a few draws away) */
    for (int d = 0; d < 10; d++) {
        if (d >= 2 && (first[d] < 20000 / 8 * 8 / 10 || first[d] > 20000 / 8 * 12 / 10))
            fail_msg("first digit %d: %ld of 20000", d, first[d]);
        if (inner[d] < 160000 / 10 * 9 / 10 || inner[d] > 160000 / 10 * 11 / 10)
            fail_msg("inner digit %d: %ld of 160000", d, inner[d]);
    }
    /* Every single-digit error and adjacent transposition is caught. */
    registry_uin_generate(uin);
    for (int k = 0; k < 10; k++) {
        char m[11];
        memcpy(m, uin, 11);
        m[k] = (char)('0' + (m[k] - '0' + 1) % 10);
        assert_int_not_equal(registry_uin_check(m, NULL), 0);
        if (k < 9 && uin[k] != uin[k + 1]) {
            memcpy(m, uin, 11);
            m[k] = uin[k + 1];
            m[k + 1] = uin[k];
            assert_int_not_equal(registry_uin_check(m, NULL), 0);
        }
    }
    assert_int_not_equal(registry_uin_check("123456789", &err), 0);
    assert_int_not_equal(registry_uin_check("1234567890", &err), 0);
    {
        char m[11];
        memcpy(m, uin, 11);
        m[9] = (char)('0' + (m[9] - '0' + 5) % 10);
        assert_int_not_equal(registry_uin_check(m, &err), 0);
        assert_non_null(strstr(err_msg(&err), "check digit"));
    }
    /* leading 0 and runs are refused whatever the check digit */
    assert_int_not_equal(registry_uin_check("0000000000", &err), 0);
}

static void test_record_normalize(void **state)
{
    struct err err = ERR_INIT;
    json_t *ex = registry_record_example(), *n1 = NULL, *n2 = NULL, *child;
    struct buf a = BUF_INIT(1 << 20), b = BUF_INIT(1 << 20);
    (void)state;

    assert_non_null(ex);
    assert_int_equal(registry_record_normalize(ex, &n1, &err), 0);
    /* NFC: a decomposed "é" keys the same bytes as the precomposed one */
    child = json_object_get(ex, "child");
    json_object_set_new(child, "given_names", json_string("Ame\xcc\x81lie Wanjiru"));
    assert_int_equal(registry_record_normalize(ex, &n2, &err), 0);
    assert_int_equal(json_canonical(n1, &a, NULL), 0);
    assert_int_equal(json_canonical(n2, &b, NULL), 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    json_decref(n2);
    n2 = NULL;

    /* partial dates */
    json_object_set_new(json_object_get(ex, "birth"), "date", json_string("1987-02"));
    assert_int_equal(registry_record_normalize(ex, &n2, &err), 0);
    json_decref(n2);
    json_object_set_new(json_object_get(ex, "birth"), "date", json_string("1987-02-30"));
    assert_int_not_equal(registry_record_normalize(ex, &n2, &err), 0);
    assert_non_null(strstr(err_msg(&err), "birth.date"));
    json_object_set_new(json_object_get(ex, "birth"), "date", json_string("1987-02-28"));
    json_object_set_new(child, "sex", json_string("f"));
    assert_int_not_equal(registry_record_normalize(ex, &n2, &err), 0);
    assert_non_null(strstr(err_msg(&err), "child.sex"));
    json_object_set_new(child, "sex", json_string("female"));
    json_object_set_new(child, "nickname", json_string("Ami"));
    assert_int_not_equal(registry_record_normalize(ex, &n2, &err), 0);
    assert_non_null(strstr(err_msg(&err), "child.nickname: unknown field"));
    json_object_del(child, "nickname");
    json_object_del(ex, "mother");
    assert_int_not_equal(registry_record_normalize(ex, &n2, &err), 0);
    assert_non_null(strstr(err_msg(&err), "mother"));

    buf_release(&a);
    buf_release(&b);
    json_decref(n1);
    json_decref(ex);
}

/* A text field's stored form: printable ASCII is stored as keyed (its NFC
 * form, compared here with the normalization's for every pair of printable
 * characters), anything else normalized and checked as before. */
static void test_record_text_ascii(void **state)
{
    struct err err = ERR_INIT;
    json_t *ex = registry_record_example(), *n = NULL, *child = json_object_get(ex, "child");
    static const char *const refused[] = { "Ami\tLee", "Ami\x7fLee", "Ami\x01", "Ami\xe2\x80\x8bLee",
                                           "Ami ", " Ami", "Ami\xff" };
    (void)state;

    for (int c1 = 0x20; c1 < 0x7f; c1++)
        for (int c2 = 0x20; c2 < 0x7f; c2++) {
            char s[5] = { 'A', (char)c1, (char)c2, 'z', '\0' };
            char *nfc = NULL;
            size_t nlen = 0;
            const char *got;
            assert_int_equal(utf8_normalize(s, 4, UTF8_NFC, &nfc, &nlen, &err), 0);
            json_object_set_new(child, "given_names", json_string(s));
            assert_int_equal(registry_record_normalize(ex, &n, &err), 0);
            got = json_string_value(json_object_get(json_object_get(n, "child"), "given_names"));
            assert_int_equal(strlen(got), nlen);
            assert_memory_equal(got, nfc, nlen);
            free(nfc);
            json_decref(n);
            n = NULL;
        }
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        json_object_set_new(child, "given_names", json_string_nocheck(refused[i]));
        if (registry_record_normalize(ex, &n, &err) == 0)
            fail_msg("child.given_names \"%s\" was accepted", refused[i]);
        assert_non_null(strstr(err_msg(&err), "child.given_names"));
    }
    json_decref(ex);
}

CMOCKA_MAIN_WITH((.group_setup = load_vectors, .secret = 1), test_merkle_roots_and_nodes,
                 test_password_policy, test_roles_separation, test_changed_account_signs_nothing,
                 test_merkle_inclusion, test_merkle_consistency, test_uin, test_record_normalize,
                 test_record_text_ascii, test_event_body_canonical)
