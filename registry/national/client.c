#define _GNU_SOURCE /* memmem */
/* civreg national tier: the district's client. Every request is a POST of a
 * JSON body signed with the office's log key (auth.c describes the string),
 * with a fresh random nonce and the current time.
 *
 * Transport: https:// (TLS 1.2 or later, the server's certificate verified
 * against the configured CA file or the system's, and its name or IP
 * address checked), or plain http:// to a loopback address only (a national
 * service started with --insecure-loopback, for tests and a proxy on the
 * same host). OpenSSL directly, one connection per request, every step of
 * it bounded in time (conn.c). */
#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/encode.h"
#include "core/json.h"
#include "national_int.h"

#define CLIENT_RESPONSE_MAX ((size_t)256 << 20)
#define CLIENT_TIMEOUT_S 600 /* a request, connect to answer: a 10,000-event batch on a
                              * loaded server */

static bool host_is_loopback(const char *h)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (strcmp(h, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, h, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int nat_parse_url(struct national_client *c, const char *url, struct err *err)
{
    const char *p, *slash, *colon;
    char *end = NULL;
    size_t hl;
    long port;

    if (strncmp(url, "https://", 8) == 0) {
        c->tls = true;
        p = url + 8;
        port = 443;
    } else if (strncmp(url, "http://", 7) == 0) {
        p = url + 7;
        port = 80;
    } else {
        return err_set(err, "national URL '%s': https://HOST[:PORT] expected", url);
    }
    slash = strchr(p, '/');
    colon = memchr(p, ':', slash ? (size_t)(slash - p) : strlen(p));
    hl = colon ? (size_t)(colon - p) : slash ? (size_t)(slash - p) : strlen(p);
    if (hl == 0 || hl >= sizeof c->host)
        return err_set(err, "national URL '%s': bad host", url);
    memcpy(c->host, p, hl);
    c->host[hl] = '\0';
    if (colon) {
        port = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || (*end && *end != '/') || port < 1 || port > 65535)
            return err_set(err, "national URL '%s': bad port", url);
    }
    c->port = (int)port;
    if (!c->tls && !host_is_loopback(c->host))
        return err_set(err,
                       "national URL '%s': plain http is refused except to a loopback address "
                       "(requests and answers would cross the network unencrypted): use "
                       "https:// with the national service's certificate (--ca FILE)",
                       url);
    (void)snprintf(c->prefix, sizeof c->prefix, "%s", slash && strcmp(slash, "/") ? slash : "");
    {
        size_t n = strlen(c->prefix);
        if (n && c->prefix[n - 1] == '/')
            c->prefix[n - 1] = '\0';
    }
    return 0;
}

static int node_office(struct db *db, char out[REG_OFFICE_MAX + 1], struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;

    if (db_prepare(db, &st, "SELECT office FROM tree_heads ORDER BY tree_size DESC LIMIT 1",
                    err) != 0)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        (void)snprintf(out, REG_OFFICE_MAX + 1, "%s", (const char *)sqlite3_column_text(st, 0));
        rc = 0;
    } else {
        err_set(err, "sync: the log has no signed tree head yet (add the first user)");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Verify https against the CA certificates in FILE (NULL: the system's). */
static int client_ca(struct national_client *c, const char *file, struct err *err)
{
    FILE *f;

    if (file == NULL)
        return 0;
    if ((f = fopen(file, "r")) == NULL)
        return err_set(err, "national: cannot read the CA file %s", file);
    fclose(f);
    if ((c->ca_file = strdup(file)) == NULL)
        return err_set(err, "out of memory");
    return 0;
}

int national_client_open(const char *url, const char *ca, int timeout_s, struct db *db,
                         const char *keys_dir, struct national_client **out, struct err *err)
{
    struct national_client *c = calloc(1, sizeof *c);
    unsigned char pk[REG_PK_BYTES];

    *out = NULL;
    if (c == NULL)
        return err_set(err, "out of memory");
    if (nat_parse_url(c, url, err) != 0 || node_office(db, c->office, err) != 0 ||
        reg_office_key_load(db, keys_dir, c->office, false, pk, &c->sk, err) != 0 ||
        client_ca(c, ca, err) != 0) {
        national_client_free(c);
        return -1;
    }
    c->timeout_s = timeout_s > 0 ? timeout_s : CLIENT_TIMEOUT_S;
    *out = c;
    return 0;
}

void national_client_free(struct national_client *c)
{
    if (c == NULL)
        return;
    if (c->sk)
        sodium_free(c->sk);
    free(c->ca_file);
    free(c);
}

/* Parse "HTTP/1.x NNN ..." and the body after the headers (Content-Length
 * when given, else to the end). */
static int parse_response(const struct buf *r, int *status, const char **body, size_t *blen,
                          struct err *err)
{
    const char *s = (const char *)r->data, *hend, *cl;
    char *end = NULL;
    long code;

    if (r->len < 12 || strncmp(s, "HTTP/1.", 7) != 0)
        return err_set(err, "national: not an HTTP response");
    code = strtol(s + 9, &end, 10);
    if (end != s + 12 || code < 100 || code > 599)
        return err_set(err, "national: bad HTTP status line");
    hend = memmem(s, r->len, "\r\n\r\n", 4);
    if (hend == NULL)
        return err_set(err, "national: truncated HTTP response");
    *status = (int)code;
    *body = hend + 4;
    *blen = r->len - (size_t)(*body - s);
    cl = memmem(s, (size_t)(hend - s), "\r\nContent-Length:", 17);
    if (cl) {
        unsigned long long n = strtoull(cl + 17, &end, 10);
        if (end == cl + 17 || n > *blen)
            return err_set(err, "national: truncated HTTP response body");
        *blen = (size_t)n;
    }
    return 0;
}

int national_client_post(struct national_client *c, const char *path, const json_t *body,
                         int *status, json_t **response, struct err *err)
{
    struct buf b = BUF_INIT((size_t)512 << 20), resp = BUF_INIT(CLIENT_RESPONSE_MAX);
    unsigned char nonce_raw[16], sig[REG_SIG_BYTES];
    char nonce[33], ts[24], msg[600], sig_hex[2 * REG_SIG_BYTES + 1], full[512], head[2048];
    struct nat_conn k = { .fd = -1 };
    char *chunk = NULL;
    const char *rbody = NULL;
    size_t rlen = 0;
    int hl, rc = -1;

    *status = 0;
    *response = NULL;
    if (json_dump_compact(body, &b, err) != 0)
        return -1;
    randombytes_buf(nonce_raw, sizeof nonce_raw);
    hex_encode(nonce_raw, sizeof nonce_raw, nonce);
    (void)snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    (void)snprintf(full, sizeof full, "%s%s", c->prefix, path);
    if (national_auth_string("POST", path, c->office, ts, nonce, b.data, b.len, msg, sizeof msg,
                             err) != 0)
        goto out;
    reg_sign(c->sk, msg, strlen(msg), sig);
    hex_encode(sig, sizeof sig, sig_hex);
    hl = snprintf(head, sizeof head,
                  "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                  "Content-Length: %zu\r\nX-Civreg-Office: %s\r\nX-Civreg-Time: %s\r\n"
                  "X-Civreg-Nonce: %s\r\nX-Civreg-Signature: %s\r\nConnection: close\r\n\r\n",
                  full, c->host, c->port, b.len, c->office, ts, nonce, sig_hex);
    if (hl < 0 || (size_t)hl >= sizeof head) {
        err_set(err, "national: request header too long");
        goto out;
    }
    if (nat_conn_open(c, &k, err) != 0)
        goto out;
    if (nat_conn_write(&k, head, (size_t)hl, err) != 0 ||
        nat_conn_write(&k, b.data, b.len, err) != 0)
        goto out;
    if ((chunk = malloc(65536)) == NULL) {
        err_set(err, "out of memory");
        goto out;
    }
    for (;;) {
        size_t n = 0;
        if (nat_conn_read(&k, chunk, 65536, &n, err) != 0)
            goto out;
        if (n == 0)
            break;
        if (buf_append(&resp, chunk, n) != 0) {
            err_set(err, "national: response over the cap");
            goto out;
        }
    }
    if (resp.len == 0) {
        err_setk(err, ERR_BUSY, "national %s:%d: no response", c->host, c->port);
        err_code(err, "national_unreachable", NULL);
        goto out;
    }
    if (parse_response(&resp, status, &rbody, &rlen, err) != 0)
        goto out;
    if (json_parse(rlen ? rbody : "{}", rlen ? rlen : 2, response, err) != 0) {
        err_prefix(err, "national: response (status %d)", *status);
        goto out;
    }
    rc = 0;
out:
    free(chunk);
    nat_conn_close(&k);
    buf_release(&b);
    buf_release(&resp);
    return rc;
}

int nat_client_call(struct national_client *c, const char *path, json_t *body, const char *what,
                    json_t **answer, struct err *err)
{
    json_t *resp = NULL;
    int status = 0, rc = -1;

    *answer = NULL;
    if (body == NULL)
        return err_oom(err);
    if (national_client_post(c, path, body, &status, &resp, err) != 0) {
        /* the transport's error is in ERR */
    } else if (status != 200) {
        const char *m = json_string_value(json_object_get(resp, "message"));
        err_setk(err, status == 404 ? ERR_NOT_FOUND : ERR_INVALID, "%s (%d): %s", what, status,
                 m ? m : "refused");
    } else {
        *answer = resp;
        resp = NULL;
        rc = 0;
    }
    json_decref(body);
    json_decref(resp);
    return rc;
}

int national_fetch_person(struct national_client *c, const char *uin, json_t **answer,
                          struct err *err)
{
    return nat_client_call(c, "/national/v1/person", json_pack("{s:s}", "uin", uin ? uin : ""),
                           "national tier", answer, err);
}

/* The national tier's deaths after CURSORS, one page (at most 5000):
 * stored, counted in *COUNT, *N how many the page held. */
static int deaths_page(struct national_client *c, struct db *db, const json_t *cursors,
                       long *count, size_t *n, struct err *err)
{
    json_t *resp = NULL, *d;
    size_t i;
    int rc = 0;

    if (nat_client_call(c, "/national/v1/deaths",
                        json_pack("{s:O, s:i}", "cursors", cursors, "limit", 5000),
                        "national tier", &resp, err) != 0)
        return -1;
    *n = json_array_size(json_object_get(resp, "deaths"));
    json_array_foreach(json_object_get(resp, "deaths"), i, d) {
        if (registry_national_death_add(
                db, nat_str(d, "uin"), nat_str(d, "office"), nat_str(d, "registration_number"),
                nat_str(d, "date_of_death"),
                (long long)json_integer_value(json_object_get(d, "event_seq")), err) != 0) {
            rc = -1;
            break;
        }
        (*count)++;
    }
    json_decref(resp);
    return rc;
}

int national_sync_deaths(struct national_client *c, struct db *db, long *count,
                         struct err *err)
{
    json_t *cursors = NULL, *prev = NULL;
    size_t n = 5000;
    int rc = 0;

    *count = 0;
    /* page after page while a full page moved a cursor (a full page that
     * moved none would come back the same) */
    while (rc == 0 && n >= 5000) {
        json_decref(prev);
        prev = cursors, cursors = NULL;
        rc = registry_national_death_cursors(db, &cursors, err);
        if (rc == 0 && json_equal(cursors, prev))
            break;
        if (rc == 0)
            rc = deaths_page(c, db, cursors, count, &n, err);
    }
    json_decref(prev);
    json_decref(cursors);
    return rc;
}
