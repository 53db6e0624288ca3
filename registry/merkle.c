#include "merkle.h"

#include <sodium.h>
#include <string.h>

#include "core/secret.h"

void merkle_leaf_hash(const void *entry, size_t len, merkle_hash out)
{
    crypto_hash_sha256_state st;
    const unsigned char prefix = 0x00;

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    crypto_hash_sha256_update(&st, entry, len);
    crypto_hash_sha256_final(&st, out);
}

void merkle_event_leaf(const void *body, size_t len, const void *sig, size_t sig_len,
                       merkle_hash out)
{
    crypto_hash_sha256_state st;
    const unsigned char prefix = 0x00;

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    crypto_hash_sha256_update(&st, body, len);
    crypto_hash_sha256_update(&st, sig, sig_len);
    crypto_hash_sha256_final(&st, out);
}

void merkle_node_hash(const merkle_hash left, const merkle_hash right, merkle_hash out)
{
    unsigned char in[1 + 2 * MERKLE_HASH_BYTES];

    in[0] = 0x01;
    memcpy(in + 1, left, MERKLE_HASH_BYTES);
    memcpy(in + 1 + MERKLE_HASH_BYTES, right, MERKLE_HASH_BYTES);
    crypto_hash_sha256(out, in, sizeof in);
}

void merkle_empty_root(merkle_hash out)
{
    crypto_hash_sha256(out, (const unsigned char *)"", 0);
}

/* The largest power of two strictly smaller than N (N >= 2). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;

    while (k << 1 < n)
        k <<= 1;
    return k;
}

static int is_pow2(uint64_t n)
{
    return n != 0 && (n & (n - 1)) == 0;
}

static unsigned log2u(uint64_t n)
{
    unsigned l = 0;

    while (n > 1) {
        n >>= 1;
        l++;
    }
    return l;
}

/* MTH(D[start:end]): complete aligned subtrees come from the source, the
 * rest is combined here (RFC 6962 §2.1). */
static int subtree_root(const struct merkle_source *src, uint64_t start, uint64_t end,
                        merkle_hash out, struct err *err)
{
    uint64_t n = end - start, k;
    merkle_hash l, r;

    if (n == 0) {
        merkle_empty_root(out);
        return 0;
    }
    if (is_pow2(n) && (start & (n - 1)) == 0)
        return src->node(src->ctx, log2u(n), start >> log2u(n), out, err);
    k = split_point(n);
    if (subtree_root(src, start, start + k, l, err) != 0 ||
        subtree_root(src, start + k, end, r, err) != 0)
        return -1;
    merkle_node_hash(l, r, out);
    return 0;
}

int merkle_root(const struct merkle_source *src, uint64_t size, merkle_hash out, struct err *err)
{
    return subtree_root(src, 0, size, out, err);
}

static int push(merkle_hash *path, size_t *n, const merkle_hash h, struct err *err)
{
    if (*n >= MERKLE_MAX_PROOF)
        return err_set(err, "merkle: proof too long");
    memcpy(path[*n], h, MERKLE_HASH_BYTES);
    (*n)++;
    return 0;
}

/* PATH(m, D[start:end]) with m relative to start. */
static int path_of(const struct merkle_source *src, uint64_t m, uint64_t start, uint64_t end,
                   merkle_hash *path, size_t *n, struct err *err)
{
    uint64_t size = end - start, k;
    merkle_hash h;

    if (size <= 1)
        return 0;
    k = split_point(size);
    if (m < k) {
        if (path_of(src, m, start, start + k, path, n, err) != 0 ||
            subtree_root(src, start + k, end, h, err) != 0)
            return -1;
    } else {
        if (path_of(src, m - k, start + k, end, path, n, err) != 0 ||
            subtree_root(src, start, start + k, h, err) != 0)
            return -1;
    }
    return push(path, n, h, err);
}

int merkle_inclusion_proof(const struct merkle_source *src, uint64_t index, uint64_t size,
                           merkle_hash *path, size_t *n, struct err *err)
{
    *n = 0;
    if (index >= size)
        return err_set(err, "merkle: leaf %llu is not in a tree of %llu leaves",
                       (unsigned long long)index, (unsigned long long)size);
    return path_of(src, index, 0, size, path, n, err);
}

/* SUBPROOF(m, D[start:end], b) (RFC 6962 §2.1.2). */
static int subproof(const struct merkle_source *src, uint64_t m, uint64_t start, uint64_t end,
                    int whole, merkle_hash *path, size_t *n, struct err *err)
{
    uint64_t size = end - start, k;
    merkle_hash h;

    if (m == size) {
        if (whole)
            return 0;
        if (subtree_root(src, start, end, h, err) != 0)
            return -1;
        return push(path, n, h, err);
    }
    k = split_point(size);
    if (m <= k) {
        if (subproof(src, m, start, start + k, whole, path, n, err) != 0 ||
            subtree_root(src, start + k, end, h, err) != 0)
            return -1;
    } else {
        if (subproof(src, m - k, start + k, end, 0, path, n, err) != 0 ||
            subtree_root(src, start, start + k, h, err) != 0)
            return -1;
    }
    return push(path, n, h, err);
}

int merkle_consistency_proof(const struct merkle_source *src, uint64_t old_size,
                             uint64_t new_size, merkle_hash *path, size_t *n, struct err *err)
{
    *n = 0;
    if (old_size > new_size)
        return err_set(err, "merkle: tree size %llu is larger than %llu",
                       (unsigned long long)old_size, (unsigned long long)new_size);
    if (old_size == 0 || old_size == new_size)
        return 0;
    return subproof(src, old_size, 0, new_size, 1, path, n, err);
}

/* One step up the tree while verifying a proof (RFC 9162 §2.1.3.2 step 5,
 * §2.1.4.2 step 6): FN is the node's index and SN the last index at the
 * current level. Returns 1 when the next proof node is the left sibling (it
 * goes first in the hash), 0 when it is the right one; FN and SN are moved up
 * to the level of the parent the hash produces. */
static int proof_step(uint64_t *fn, uint64_t *sn)
{
    int left = (*fn & 1) || *fn == *sn;

    if (left && !(*fn & 1))
        while (*fn != 0 && !(*fn & 1)) {
            *fn >>= 1;
            *sn >>= 1;
        }
    *fn >>= 1;
    *sn >>= 1;
    return left;
}

int merkle_verify_inclusion(uint64_t index, uint64_t size, const merkle_hash leaf,
                            const merkle_hash *path, size_t n, const merkle_hash root,
                            struct err *err)
{
    uint64_t fn = index, sn;
    merkle_hash r;

    if (index >= size)
        return err_set(err, "merkle: leaf %llu is outside a tree of %llu leaves",
                       (unsigned long long)index, (unsigned long long)size);
    sn = size - 1;
    memcpy(r, leaf, MERKLE_HASH_BYTES);
    for (size_t i = 0; i < n; i++) {
        if (sn == 0)
            return err_set(err, "merkle: inclusion proof is longer than the tree is deep");
        if (proof_step(&fn, &sn))
            merkle_node_hash(path[i], r, r);
        else
            merkle_node_hash(r, path[i], r);
    }
    if (sn != 0)
        return err_set(err, "merkle: inclusion proof is too short for the tree");
    if (!secret_equal(r, root, MERKLE_HASH_BYTES))
        return err_set(err, "merkle: inclusion proof does not lead to the tree head's root");
    return 0;
}

int merkle_verify_consistency(uint64_t size1, uint64_t size2, const merkle_hash root1,
                              const merkle_hash root2, const merkle_hash *path, size_t n,
                              struct err *err)
{
    uint64_t fn, sn;
    merkle_hash fr, sr;
    size_t i = 0;

    if (size1 > size2)
        return err_set(err, "merkle: tree size %llu is larger than %llu (history rewritten?)",
                       (unsigned long long)size1, (unsigned long long)size2);
    if (size1 == size2) {
        if (n != 0)
            return err_set(err, "merkle: consistency proof between equal sizes must be empty");
        if (!secret_equal(root1, root2, MERKLE_HASH_BYTES))
            return err_set(err, "merkle: two different roots for tree size %llu",
                           (unsigned long long)size1);
        return 0;
    }
    if (size1 == 0) {
        if (n != 0)
            return err_set(err, "merkle: consistency proof from an empty tree must be empty");
        return 0;
    }
    if (n == 0)
        return err_set(err, "merkle: empty consistency proof");
    fn = size1 - 1;
    sn = size2 - 1;
    /* When SIZE1 is a power of two the old root is itself a node of the new
     * tree and starts the proof implicitly (RFC 9162 §2.1.4.2 step 2). */
    if (is_pow2(size1)) {
        memcpy(fr, root1, MERKLE_HASH_BYTES);
    } else {
        memcpy(fr, path[0], MERKLE_HASH_BYTES);
        i = 1;
    }
    memcpy(sr, fr, MERKLE_HASH_BYTES);
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; i < n; i++) {
        if (sn == 0)
            return err_set(err, "merkle: consistency proof is too long");
        if (proof_step(&fn, &sn)) {
            merkle_node_hash(path[i], fr, fr);
            merkle_node_hash(path[i], sr, sr);
        } else {
            merkle_node_hash(sr, path[i], sr);
        }
    }
    if (sn != 0)
        return err_set(err, "merkle: consistency proof is too short");
    if (!secret_equal(fr, root1, MERKLE_HASH_BYTES))
        return err_set(err, "merkle: consistency proof does not reproduce the old root");
    if (!secret_equal(sr, root2, MERKLE_HASH_BYTES))
        return err_set(err, "merkle: consistency proof does not reproduce the new root");
    return 0;
}

static int mem_node(void *ctx, unsigned level, uint64_t index, merkle_hash out, struct err *err)
{
    const struct merkle_mem *m = ctx;
    uint64_t start = index << level, count = (uint64_t)1 << level;
    merkle_hash l, r;

    if (start >= m->count || count > m->count - start)
        return err_set(err, "merkle: subtree %u/%llu is beyond %llu leaves", level,
                       (unsigned long long)index, (unsigned long long)m->count);
    if (level == 0) {
        memcpy(out, m->leaves[index], MERKLE_HASH_BYTES);
        return 0;
    }
    if (mem_node(ctx, level - 1, index * 2, l, err) != 0 ||
        mem_node(ctx, level - 1, index * 2 + 1, r, err) != 0)
        return -1;
    merkle_node_hash(l, r, out);
    return 0;
}

void merkle_mem_source(struct merkle_mem *mem, struct merkle_source *out)
{
    out->node = mem_node;
    out->ctx = mem;
}

int merkle_frontier_append(struct merkle_frontier *f, const merkle_hash leaf,
                           int (*emit)(void *ctx, unsigned level, uint64_t index,
                                       const merkle_hash hash, struct err *err),
                           void *ctx, struct err *err)
{
    merkle_hash h;
    uint64_t index = f->size;
    unsigned level = 0;

    if (f->size == UINT64_MAX)
        return err_set(err, "merkle: tree is full");
    memcpy(h, leaf, MERKLE_HASH_BYTES);
    if (emit && emit(ctx, 0, index, h, err) != 0)
        return -1;
    /* Each trailing set bit of the old size is a left sibling waiting. */
    while ((f->size >> level) & 1) {
        merkle_node_hash(f->nodes[level], h, h);
        level++;
        index >>= 1;
        if (emit && emit(ctx, level, index, h, err) != 0)
            return -1;
    }
    memcpy(f->nodes[level], h, MERKLE_HASH_BYTES);
    f->size++;
    return 0;
}

void merkle_frontier_root(const struct merkle_frontier *f, merkle_hash out)
{
    merkle_hash r;
    int have = 0;

    for (unsigned l = 0; l < 64; l++) {
        if (!((f->size >> l) & 1))
            continue;
        if (!have) {
            memcpy(r, f->nodes[l], MERKLE_HASH_BYTES);
            have = 1;
        } else {
            merkle_node_hash(f->nodes[l], r, r);
        }
    }
    if (!have)
        merkle_empty_root(r);
    memcpy(out, r, MERKLE_HASH_BYTES);
}
