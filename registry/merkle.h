/* civreg registry: RFC 6962 Merkle hash trees (SHA-256).
 *
 * Leaf hash  H(0x00 || entry), node hash  H(0x01 || left || right), the root
 * of an empty tree is H() (RFC 6962 §2.1). Proofs are computed from a source
 * of complete-subtree hashes (struct merkle_source), so the same code serves
 * the database (registry/eventlog.c keeps every complete subtree) and plain
 * arrays (tests, bundles). Verification follows RFC 9162 §2.1.3.2 and
 * §2.1.4.2 and needs nothing but the hashes.
 *
 * No SQL and no I/O here.
 */
#ifndef CIVREG_REGISTRY_MERKLE_H
#define CIVREG_REGISTRY_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MERKLE_HASH_BYTES 32
#define MERKLE_MAX_PROOF 128 /* 2 * 64 levels is more than any real proof */

typedef unsigned char merkle_hash[MERKLE_HASH_BYTES];

/* RFC 6962 §2.1 hashing. */
void merkle_leaf_hash(const void *entry, size_t len, merkle_hash out);
/* The provenance log's leaf of an event: the leaf hash of its canonical
 * BODY followed by its SIGnature, SHA-256(0x00 || body || signature). */
void merkle_event_leaf(const void *body, size_t len, const void *sig, size_t sig_len,
                       merkle_hash out);
void merkle_node_hash(const merkle_hash left, const merkle_hash right, merkle_hash out);
void merkle_empty_root(merkle_hash out);

/* A source of complete-subtree hashes: NODE returns the hash of the subtree
 * of 2^LEVEL leaves starting at leaf INDEX << LEVEL. */
struct merkle_source {
    int (*node)(void *ctx, unsigned level, uint64_t index, merkle_hash out, struct err *err);
    void *ctx;
};

/* Leaf hashes held in memory as a source (LEAVES is borrowed; complete
 * subtrees are hashed on demand). */
struct merkle_mem {
    const merkle_hash *leaves;
    uint64_t count;
};
void merkle_mem_source(struct merkle_mem *mem, struct merkle_source *out);

/* MTH(D[0:SIZE]), the root of the tree of the first SIZE leaves. */
int merkle_root(const struct merkle_source *src, uint64_t size, merkle_hash out, struct err *err)
    __attribute__((warn_unused_result));

/* PATH(INDEX, D[0:SIZE]) (RFC 6962 §2.1.1), leaf end first. PATH has room for
 * MERKLE_MAX_PROOF hashes; *N receives the count. */
int merkle_inclusion_proof(const struct merkle_source *src, uint64_t index, uint64_t size,
                           merkle_hash *path, size_t *n, struct err *err)
    __attribute__((warn_unused_result));

/* PROOF(OLD_SIZE, D[0:NEW_SIZE]) (RFC 6962 §2.1.2). Same output rules. */
int merkle_consistency_proof(const struct merkle_source *src, uint64_t old_size,
                             uint64_t new_size, merkle_hash *path, size_t *n, struct err *err)
    __attribute__((warn_unused_result));

/* Check that LEAF is leaf INDEX of the tree of SIZE leaves whose root is
 * ROOT. Returns 0, or -1 naming what does not hold. */
int merkle_verify_inclusion(uint64_t index, uint64_t size, const merkle_hash leaf,
                            const merkle_hash *path, size_t n, const merkle_hash root,
                            struct err *err) __attribute__((warn_unused_result));

/* Check that the tree (SIZE2, ROOT2) extends the tree (SIZE1, ROOT1). */
int merkle_verify_consistency(uint64_t size1, uint64_t size2, const merkle_hash root1,
                              const merkle_hash root2, const merkle_hash *path, size_t n,
                              struct err *err) __attribute__((warn_unused_result));

/* An append-only tree kept as its right edge (one complete subtree per set
 * bit of SIZE): O(log n) memory, used to append to the log and to rebuild it
 * when auditing. */
struct merkle_frontier {
    uint64_t size;
    merkle_hash nodes[64]; /* nodes[l] valid when bit l of size is set */
};
#define MERKLE_FRONTIER_INIT { 0, { { 0 } } }

/* Append a leaf hash. EMIT (may be NULL) is called for every complete subtree
 * the append completes, leaf first: (level, index, hash). */
int merkle_frontier_append(struct merkle_frontier *f, const merkle_hash leaf,
                           int (*emit)(void *ctx, unsigned level, uint64_t index,
                                       const merkle_hash hash, struct err *err),
                           void *ctx, struct err *err) __attribute__((warn_unused_result));

/* The root of the tree the frontier describes. */
void merkle_frontier_root(const struct merkle_frontier *f, merkle_hash out);

#endif
