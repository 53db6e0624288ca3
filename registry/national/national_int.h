/* civreg national tier: internals shared by registry/national/ (not API). */
#ifndef CIVREG_REGISTRY_NATIONAL_INT_H
#define CIVREG_REGISTRY_NATIONAL_INT_H

#include <stdint.h>

#include "db/pg.h"
#include "registry/national/national.h"
#include "registry/registry_int.h"

/* A district's client of the national service (client.c). */
struct national_client {
    char host[256];
    int port;
    char prefix[256];
    bool tls;          /* https:// */
    char *ca_file;     /* CA certificates to verify the server (NULL: the system's) */
    char office[REG_OFFICE_MAX + 1];
    unsigned char *sk; /* sodium_malloc'd office key */
    int timeout_s;     /* a whole request (national_client_open) */
};

/* The connection and TLS handshake take at most this, or the client's
 * timeout when shorter (conn.c). */
#define NAT_CONNECT_TIMEOUT_S 10

/* One connection to the national tier (conn.c): the socket, TLS when
 * https, and the deadline of the request it carries. */
struct nat_conn {
    int fd;
    struct ssl_ctx_st *ctx; /* OpenSSL's SSL_CTX and SSL (https) */
    struct ssl_st *ssl;
    int64_t deadline; /* monotonic ms (nat_now_ms) */
    int timeout_s;
    char target[300]; /* HOST:PORT, for messages */
};

/* The monotonic clock in milliseconds. */
int64_t nat_now_ms(void);

/* Connect K to C's server within min(C's timeout, NAT_CONNECT_TIMEOUT_S)
 * (each address in turn, TLS verified when https), K's deadline then C's
 * timeout from now. -1 with ERR: code national_timeout when a bound
 * passed, national_unreachable when refused or unreachable (kind busy);
 * an untrusted certificate without a code. K is closed on failure. */
int nat_conn_open(const struct national_client *c, struct nat_conn *k, struct err *err)
    __attribute__((warn_unused_result));
/* Write all LEN bytes of DATA before K's deadline. */
int nat_conn_write(struct nat_conn *k, const void *data, size_t len, struct err *err)
    __attribute__((warn_unused_result));
/* Read at most CAP bytes into BUF before K's deadline: 0 with *GOT bytes
 * (0 at the end of the answer), -1 with ERR (as nat_conn_open). */
int nat_conn_read(struct nat_conn *k, void *buf, size_t cap, size_t *got, struct err *err)
    __attribute__((warn_unused_result));
/* Close K (a closed K too). */
void nat_conn_close(struct nat_conn *k);

/* How nat_conn_open looks a host name up (getaddrinfo's contract); it is
 * bounded by the connection's deadline whatever it does. */
struct addrinfo;
typedef int (*nat_lookup_fn)(const char *host, const char *port, const struct addrinfo *hints,
                             struct addrinfo **res);
/* For tests: look names up with FN from now on (NULL: getaddrinfo). */
void nat_conn_set_lookup(nat_lookup_fn fn);

/* Parse a national URL into C's host, port, prefix and tls (client.c):
 * https://, or http:// to a loopback address only. */
int nat_parse_url(struct national_client *c, const char *url, struct err *err);

/* POST BODY (taken; NULL is the out-of-memory failure that built it) to
 * PATH of the national tier (national_client_post): 0 with *ANSWER the JSON
 * of its 200 answer (the caller's); -1 with ERR set: the transport's
 * failure, or "WHAT (STATUS): MESSAGE" for a refusal (kind not_found for
 * 404, invalid otherwise). */
int nat_client_call(struct national_client *c, const char *path, json_t *body, const char *what,
                    json_t **answer, struct err *err) __attribute__((warn_unused_result));

/* Share K of T of a push's events [0, N) whose signatures one thread
 * verifies, [*LO, *HI): whole batches of ED_BATCH_MAX (core/ed25519_batch.h),
 * only the last share's last batch shorter; the shares cover [0, N) in
 * order. */
void national_verify_share(size_t n, unsigned t, unsigned k, size_t *lo, size_t *hi);

/* Whether S is an office code [A-Z0-9]{2,8}. */
bool nat_office_ok(const char *s);

/* The string value of K in O, "" when absent. */
const char *nat_str(const json_t *o, const char *k);

/* Fold a name the way the district's search keys do (registry_name_fold),
 * malloc'd ("" on failure). */
char *nat_name_key(const char *given, const char *family);

/* National search: for each word of the query, this many of the most
 * similar words of the nation's names (name_vocab) are looked up (a
 * literal: it is part of the search's SQL text). */
#define NAT_SEARCH_WORDS_SQL "8"

/* Inclusion proofs over the leaves of OFFICE's accepted events up to SIZE:
 * loads the leaf hashes (malloc'd *LEAVES, *N). */
int nat_load_leaves(struct pg *pg, const char *office, uint64_t size, merkle_hash **leaves,
                    struct err *err);

/* Row I of R as JSON: a new reference, NULL when out of memory. CTX is the
 * caller's. */
typedef json_t *(*nat_row_fn)(const struct pg_res *r, int i, void *ctx);

/* Run SQL with its N text parameters P (pg_exec) and make each row ROW's
 * value, in a new array *OUT the caller owns. Returns 0, or -1 with *OUT
 * NULL and ERR set (the query's failure, or out of memory). */
int nat_query_rows(struct pg *pg, const char *sql, int n, const char *const *p, nat_row_fn row,
                   void *ctx, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

#endif
