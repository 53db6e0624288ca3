/* civreg national tier: the district's client. Every request is a POST of a
 * JSON body signed with the office's log key (auth.c describes the string),
 * with a fresh random nonce and the current time. Plain HTTP to the national
 * service; TLS is the proxy's (docs/national.md). */
#include <civetweb.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/encode.h"
#include "core/json.h"
#include "national_int.h"

#define CLIENT_RESPONSE_MAX ((size_t)256 << 20)

static int parse_url(struct national_client *c, const char *url, struct err *err)
{
    const char *p, *slash, *colon;
    char *end = NULL;
    size_t hl;
    long port = 80;

    if (strncmp(url, "http://", 7) != 0)
        return err_set(err, "national URL '%s': http://HOST:PORT expected (TLS through a proxy)",
                       url);
    p = url + 7;
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
    if (parse_url(c, url, err) != 0 || node_office(db, c->office, err) != 0 ||
        reg_office_key_load(db, keys_dir, c->office, false, pk, &c->sk, err) != 0) {
        national_client_free(c);
        return -1;
    }
    mg_init_library(0);
    *out = c;
    return 0;
}

void national_client_free(struct national_client *c)
{
    if (c == NULL)
        return;
    if (c->sk)
        sodium_free(c->sk);
    free(c);
}

int national_client_post(struct national_client *c, const char *path, const json_t *body,
                         int *status, json_t **response, struct err *err)
{
    struct buf b = BUF_INIT((size_t)512 << 20), resp = BUF_INIT(CLIENT_RESPONSE_MAX);
    unsigned char nonce_raw[16], sig[REG_SIG_BYTES];
    char nonce[33], ts[24], msg[600], sig_hex[2 * REG_SIG_BYTES + 1], full[512], ebuf[256] = "";
    const struct mg_response_info *ri;
    struct mg_connection *conn = NULL;
    char chunk[65536];
    int n, rc = -1;

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
    conn = mg_connect_client(c->host, c->port, 0, ebuf, sizeof ebuf);
    if (conn == NULL) {
        err_set(err, "national %s:%d: cannot connect: %s", c->host, c->port, ebuf);
        goto out;
    }
    if (mg_printf(conn,
                  "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                  "Content-Length: %zu\r\nX-Civreg-Office: %s\r\nX-Civreg-Time: %s\r\n"
                  "X-Civreg-Nonce: %s\r\nX-Civreg-Signature: %s\r\nConnection: close\r\n\r\n",
                  full, c->host, c->port, b.len, c->office, ts, nonce, sig_hex) <= 0 ||
        mg_write(conn, b.data, b.len) != (int)b.len) {
        err_set(err, "national %s:%d: sending the request failed", c->host, c->port);
        goto out;
    }
    if (mg_get_response(conn, ebuf, sizeof ebuf, 600 * 1000) < 0) {
        err_set(err, "national %s:%d: no response: %s", c->host, c->port, ebuf);
        goto out;
    }
    ri = mg_get_response_info(conn);
    *status = ri->status_code;
    while ((n = mg_read(conn, chunk, sizeof chunk)) > 0)
        if (buf_append(&resp, chunk, (size_t)n) != 0) {
            err_set(err, "national: response over the cap");
            goto out;
        }
    if (json_parse(resp.len ? (const char *)resp.data : "{}", resp.len ? resp.len : 2, response,
                   err) != 0) {
        err_prefix(err, "national: response (status %d)", *status);
        goto out;
    }
    rc = 0;
out:
    if (conn)
        mg_close_connection(conn);
    buf_release(&b);
    buf_release(&resp);
    return rc;
}

int national_fetch_person(struct national_client *c, const char *uin, json_t **answer,
                          struct err *err)
{
    json_t *body = json_pack("{s:s}", "uin", uin ? uin : ""), *resp = NULL;
    int status = 0, rc = -1;

    *answer = NULL;
    if (body == NULL)
        return err_set(err, "out of memory");
    if (national_client_post(c, "/national/v1/person", body, &status, &resp, err) != 0)
        goto out;
    if (status != 200) {
        const char *m = json_string_value(json_object_get(resp, "message"));
        err_setk(err, status == 404 ? ERR_NOT_FOUND : ERR_INVALID, "national tier (%d): %s",
                 status, m ? m : "refused");
        goto out;
    }
    *answer = resp;
    resp = NULL;
    rc = 0;
out:
    json_decref(body);
    json_decref(resp);
    return rc;
}

int national_sync_deaths(struct national_client *c, struct db *db, long *count,
                         struct err *err)
{
    json_t *cursors = NULL, *body = NULL, *resp = NULL, *prev = NULL;
    int status = 0, rc = -1;

    *count = 0;
    for (;;) {
        const json_t *deaths;
        size_t i, n;
        json_t *d;
        if (registry_national_death_cursors(db, &cursors, err) != 0 ||
            (body = json_pack("{s:O, s:i}", "cursors", cursors, "limit", 5000)) == NULL ||
            national_client_post(c, "/national/v1/deaths", body, &status, &resp, err) != 0)
            goto out;
        if (status != 200) {
            const char *m = json_string_value(json_object_get(resp, "message"));
            err_set(err, "national tier (%d): %s", status, m ? m : "refused");
            goto out;
        }
        deaths = json_object_get(resp, "deaths");
        n = json_array_size(deaths);
        json_array_foreach(deaths, i, d) {
            if (registry_national_death_add(
                    db, nat_str(d, "uin"), nat_str(d, "office"), nat_str(d, "registration_number"),
                    nat_str(d, "date_of_death"),
                    (long long)json_integer_value(json_object_get(d, "event_seq")), err) != 0)
                goto out;
            (*count)++;
        }
        json_decref(prev);
        prev = cursors, cursors = NULL;
        json_decref(body), body = NULL;
        json_decref(resp), resp = NULL;
        if (n < 5000)
            break;
        /* a full page that moved no cursor would come back the same */
        if (registry_national_death_cursors(db, &cursors, err) != 0)
            goto out;
        if (json_equal(cursors, prev))
            break;
        json_decref(cursors), cursors = NULL;
    }
    rc = 0;
out:
    json_decref(prev);
    json_decref(cursors);
    json_decref(body);
    json_decref(resp);
    return rc;
}
