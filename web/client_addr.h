/* civreg web: who the client is. The TCP peer's address, except behind a
 * reverse proxy the operator named in civreg.conf (trusted_proxies): then
 * the address that proxy appended to X-Forwarded-For. A client can write
 * anything into X-Forwarded-For, so the header is read only when the peer
 * is trusted, and only its rightmost untrusted entry is believed (the one
 * the trusted proxy itself appended). The sign-in throttle and the seal
 * throttle key on this address. */
#ifndef CIVREG_WEB_CLIENT_ADDR_H
#define CIVREG_WEB_CLIENT_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

/* Enough for any IPv6 text (INET6_ADDRSTRLEN is 46) and a NUL. */
#define WEB_ADDR_MAX 48
#define WEB_ADDRSET_MAX 32

/* A set of addresses and networks: "127.0.0.1", "10.1.0.0/16", "::1",
 * "fd00::/8". IPv4-mapped IPv6 peers match their IPv4 entries. */
struct web_addrset {
    size_t n;
    struct {
        int family; /* AF_INET or AF_INET6 */
        unsigned char addr[16];
        unsigned prefix; /* bits compared */
    } e[WEB_ADDRSET_MAX];
};

/* Parse LIST (entries separated by commas and/or blanks; NULL or "" is the
 * empty set) into *OUT. Returns 0, or -1 naming the bad entry in ERR. */
int web_addrset_parse(const char *list, struct web_addrset *out, struct err *err)
    __attribute__((warn_unused_result));

/* Is the address text ADDR (no port) in S? False for text that is no
 * address. */
bool web_addrset_contains(const struct web_addrset *s, const char *addr);

/* The client's address into OUT (canonical text): PEER itself, unless PEER
 * is in TRUSTED and XFF (the last X-Forwarded-For header, may be NULL) is
 * present; then the rightmost entry of XFF that is not in TRUSTED (if all
 * are trusted, the leftmost). An entry that is not an address makes the
 * answer PEER: a trusted proxy always appends a valid one. */
void web_client_addr_resolve(const struct web_addrset *trusted, const char *peer, const char *xff,
                             char out[WEB_ADDR_MAX]);

#endif
