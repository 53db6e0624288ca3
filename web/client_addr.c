/* civreg web: the client's address and the trusted proxies (see
 * client_addr.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client_addr.h"

struct ip {
    int family;
    unsigned char a[16];
};

/* Text -> address; "::ffff:1.2.3.4" becomes IPv4 so both spellings of one
 * peer compare equal. */
static bool ip_parse(const char *s, size_t len, struct ip *out)
{
    char t[WEB_ADDR_MAX];

    if (len == 0 || len >= sizeof t)
        return false;
    memcpy(t, s, len);
    t[len] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, t, out->a) == 1) {
        out->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, t, out->a) != 1)
        return false;
    out->family = AF_INET6;
    if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)out->a)) {
        memmove(out->a, out->a + 12, 4);
        memset(out->a + 4, 0, 12);
        out->family = AF_INET;
    }
    return true;
}

static void ip_text(const struct ip *ip, char out[WEB_ADDR_MAX])
{
    if (inet_ntop(ip->family, ip->a, out, WEB_ADDR_MAX) == NULL)
        out[0] = '\0';
}

static bool prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;

    if (memcmp(a, b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((a[whole] ^ b[whole]) & (unsigned char)(0xff << (8 - rest))) == 0;
}

static bool set_has(const struct web_addrset *s, const struct ip *ip)
{
    for (size_t i = 0; s != NULL && i < s->n; i++)
        if (s->e[i].family == ip->family && prefix_match(s->e[i].addr, ip->a, s->e[i].prefix))
            return true;
    return false;
}

int web_addrset_parse(const char *list, struct web_addrset *out, struct err *err)
{
    const char *p = list ? list : "";

    memset(out, 0, sizeof *out);
    for (;;) {
        size_t len, alen;
        const char *slash;
        struct ip ip;
        unsigned long prefix;

        p += strspn(p, ", \t");
        if (*p == '\0')
            return 0;
        len = strcspn(p, ", \t");
        slash = memchr(p, '/', len);
        alen = slash ? (size_t)(slash - p) : len;
        if (!ip_parse(p, alen, &ip))
            return err_set(err, "trusted_proxies: '%.*s' is not an IP address or network",
                           (int)(len > 60 ? 60 : len), p);
        prefix = ip.family == AF_INET ? 32 : 128;
        if (slash != NULL) {
            char *end = NULL;
            unsigned long max = prefix;
            errno = 0;
            prefix = strtoul(slash + 1, &end, 10);
            if (errno != 0 || end == slash + 1 || end != p + len || prefix > max)
                return err_set(err, "trusted_proxies: '%.*s': the prefix length must be 0 to %lu",
                               (int)(len > 60 ? 60 : len), p, max);
        }
        if (out->n == WEB_ADDRSET_MAX)
            return err_set(err, "trusted_proxies: at most %d entries", WEB_ADDRSET_MAX);
        out->e[out->n].family = ip.family;
        memcpy(out->e[out->n].addr, ip.a, sizeof ip.a);
        out->e[out->n].prefix = (unsigned)prefix;
        out->n++;
        p += len;
    }
}

bool web_addrset_contains(const struct web_addrset *s, const char *addr)
{
    struct ip ip;
    return addr != NULL && ip_parse(addr, strlen(addr), &ip) && set_has(s, &ip);
}

/* One X-Forwarded-For entry, blanks trimmed: an address, possibly written
 * "[v6]" or with a ":port" (some proxies add one). */
static bool xff_entry(const char *s, size_t len, struct ip *out)
{
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (ip_parse(s, len, out))
        return true;
    if (len > 2 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        return close != NULL && ip_parse(s + 1, (size_t)(close - s - 1), out);
    }
    {
        const char *colon = memchr(s, ':', len);
        /* "1.2.3.4:80": exactly one colon, so not IPv6 */
        if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - s) - 1) == NULL &&
            ip_parse(s, (size_t)(colon - s), out) && out->family == AF_INET)
            return true;
    }
    return false;
}

void web_client_addr_resolve(const struct web_addrset *trusted, const char *peer, const char *xff,
                             char out[WEB_ADDR_MAX])
{
    struct ip ip, cand;
    size_t end;

    if (peer == NULL || !ip_parse(peer, strlen(peer), &ip)) {
        (void)snprintf(out, WEB_ADDR_MAX, "%s", peer ? peer : "");
        return;
    }
    ip_text(&ip, out);
    if (xff == NULL || !set_has(trusted, &ip))
        return;
    /* From the right: skip our own proxies; the first other entry is the
     * address the nearest trusted proxy saw. */
    end = strlen(xff);
    for (;;) {
        const char *comma = NULL;
        size_t start;

        for (size_t i = end; i > 0; i--)
            if (xff[i - 1] == ',') {
                comma = xff + i - 1;
                break;
            }
        start = comma ? (size_t)(comma - xff) + 1 : 0;
        if (!xff_entry(xff + start, end - start, &cand))
            return; /* not what a trusted proxy writes: keep the peer */
        if (!set_has(trusted, &cand) || comma == NULL) {
            ip_text(&cand, out);
            return;
        }
        end = (size_t)(comma - xff);
    }
}
