#define _GNU_SOURCE /* memmem */
/* civreg national tier: the district's client. Every request is a POST of a
 * JSON body signed with the office's log key (auth.c describes the string),
 * with a fresh random nonce and the current time.
 *
 * Transport: https:// (TLS 1.2 or later, the server's certificate verified
 * against the configured CA file or the system's, and its name or IP
 * address checked), or plain http:// to a loopback address only (a national
 * service started with --insecure-loopback, for tests and a proxy on the
 * same host). OpenSSL directly, one connection per request. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/encode.h"
#include "core/json.h"
#include "national_int.h"

#define CLIENT_RESPONSE_MAX ((size_t)256 << 20)
#define CLIENT_TIMEOUT_S 600 /* a 10,000-event batch on a loaded server */

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

int national_client_open(const char *url, struct db *db, const char *keys_dir,
                         struct national_client **out, struct err *err)
{
    struct national_client *c = calloc(1, sizeof *c);
    unsigned char pk[REG_PK_BYTES];

    *out = NULL;
    if (c == NULL)
        return err_set(err, "out of memory");
    if (nat_parse_url(c, url, err) != 0 || node_office(db, c->office, err) != 0 ||
        reg_office_key_load(db, keys_dir, c->office, false, pk, &c->sk, err) != 0) {
        national_client_free(c);
        return -1;
    }
    c->timeout_s = CLIENT_TIMEOUT_S;
    *out = c;
    return 0;
}

void national_client_set_timeout(struct national_client *c, int seconds)
{
    c->timeout_s = seconds > 0 ? seconds : CLIENT_TIMEOUT_S;
    c->bounded = seconds > 0;
}

int national_client_set_ca(struct national_client *c, const char *file, struct err *err)
{
    FILE *f;

    if (file == NULL)
        return 0;
    if ((f = fopen(file, "r")) == NULL)
        return err_set(err, "national: cannot read the CA file %s", file);
    fclose(f);
    free(c->ca_file);
    if ((c->ca_file = strdup(file)) == NULL)
        return err_set(err, "out of memory");
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

/* The first OpenSSL error as text, for a message. */
static const char *ssl_why(char *buf, size_t size)
{
    unsigned long e = ERR_get_error();
    if (e == 0)
        return "connection failed";
    ERR_error_string_n(e, buf, size);
    ERR_clear_error();
    return buf;
}

/* A connected BIO to the server (TLS verified when https). */
static int connect_bio(struct national_client *c, SSL_CTX **ctxp, BIO **out, struct err *err)
{
    char target[300], why[256];
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    BIO *b = NULL;
    struct timeval tv = { c->timeout_s, 0 };
    int fd, fl;

    *out = NULL;
    *ctxp = NULL;
    (void)snprintf(target, sizeof target, "%s:%d", c->host, c->port);
    ERR_clear_error();
    if (c->tls) {
        if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
            return err_set(err, "national: TLS: %s", ssl_why(why, sizeof why));
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if ((c->ca_file ? SSL_CTX_load_verify_locations(ctx, c->ca_file, NULL)
                        : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
            err_set(err, "national: cannot load the CA certificates %s: %s",
                    c->ca_file ? c->ca_file : "(system)", ssl_why(why, sizeof why));
            goto fail;
        }
        if ((b = BIO_new_ssl_connect(ctx)) == NULL || BIO_get_ssl(b, &ssl) != 1 || ssl == NULL) {
            err_set(err, "national: TLS: %s", ssl_why(why, sizeof why));
            goto fail;
        }
        {
            struct in_addr a4;
            struct in6_addr a6;
            X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
            bool ip = inet_pton(AF_INET, c->host, &a4) == 1 ||
                      inet_pton(AF_INET6, c->host, &a6) == 1;
            if (ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, c->host) != 1
                   : (SSL_set_tlsext_host_name(ssl, c->host) != 1 ||
                      SSL_set1_host(ssl, c->host) != 1)) {
                err_set(err, "national: TLS: cannot set the expected name %s", c->host);
                goto fail;
            }
        }
        BIO_set_conn_hostname(b, target);
    } else if ((b = BIO_new_connect(target)) == NULL) {
        err_set(err, "national: out of memory");
        goto fail;
    }
    /* A bounded client connects (and shakes hands) without blocking, for
     * at most its timeout, then reads and writes blocking as before. */
    if (c->bounded ? (BIO_set_nbio(b, 1) != 1 || BIO_do_connect_retry(b, c->timeout_s, 100) != 1)
                   : BIO_do_connect(b) != 1) {
        long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
        if (v != X509_V_OK)
            err_set(err, "national %s: the server's certificate is not trusted: %s", target,
                    X509_verify_cert_error_string(v));
        else
            err_setk(err, ERR_BUSY, "national %s: cannot connect: %s", target,
                     ssl_why(why, sizeof why));
        err_code(err, "national_unreachable", NULL);
        goto fail;
    }
    if (ssl && SSL_get_verify_result(ssl) != X509_V_OK) {
        err_set(err, "national %s: the server's certificate is not trusted", target);
        goto fail;
    }
    if (BIO_get_fd(b, &fd) >= 0) {
        if (c->bounded && (fl = fcntl(fd, F_GETFL)) >= 0)
            (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    *out = b;
    *ctxp = ctx;
    return 0;
fail:
    BIO_free_all(b);
    SSL_CTX_free(ctx);
    return -1;
}

static int write_all(BIO *b, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        size_t w = 0;
        if (BIO_write_ex(b, p, len, &w) != 1 || w == 0)
            return -1;
        p += w;
        len -= w;
    }
    return 0;
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
    SSL_CTX *ctx = NULL;
    BIO *bio = NULL;
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
    if (connect_bio(c, &ctx, &bio, err) != 0)
        goto out;
    if (write_all(bio, head, (size_t)hl) != 0 || write_all(bio, b.data, b.len) != 0 ||
        BIO_flush(bio) != 1) {
        err_setk(err, ERR_BUSY, "national %s:%d: sending the request failed", c->host, c->port);
        err_code(err, "national_unreachable", NULL);
        goto out;
    }
    if ((chunk = malloc(65536)) == NULL) {
        err_set(err, "out of memory");
        goto out;
    }
    for (;;) {
        size_t n = 0;
        errno = 0;
        if (BIO_read_ex(bio, chunk, 65536, &n) != 1 || n == 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                err_setk(err, ERR_BUSY, "national %s:%d: no answer within %d s", c->host, c->port,
                         c->timeout_s);
                err_code(err, "national_timeout", NULL);
                goto out;
            }
            break;
        }
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
    BIO_free_all(bio);
    SSL_CTX_free(ctx);
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
