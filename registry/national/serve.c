/* civreg national tier: `civreg national serve`, the HTTP service districts
 * push to. One route table; every route needs a request signed by a
 * registered office (auth.c) before its handler runs. Each CivetWeb worker
 * holds its own PostgreSQL connection. The body is read up to a cap.
 *
 * civetweb.h is otherwise included only in web/: the national service is a
 * separate program surface (no sessions, no UI), kept beside its store. */
#include <arpa/inet.h>
#include <civetweb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tls.h"
#include "core/json.h"
#include "core/log.h"
#include "national_int.h"

#define NATIONAL_BODY_MAX ((size_t)64 << 20) /* a 10,000-event push is ~15 MiB */

struct nserve {
    const char *pg_url;
    const char *tls_cert, *tls_key;
};

struct nworker {
    struct pg *pg;
};

typedef enum national_refusal (*route_fn)(struct pg *pg, const char *office, const json_t *req,
                                          json_t **out, struct err *err);

static enum national_refusal r_head(struct pg *pg, const char *office, const json_t *req,
                                    json_t **out, struct err *err)
{
    (void)req;
    return national_head(pg, office, out, err) == 0 ? NATIONAL_OK : NATIONAL_INTERNAL;
}

static enum national_refusal r_person(struct pg *pg, const char *office, const json_t *req,
                                      json_t **out, struct err *err)
{
    (void)office;
    return national_person(pg, nat_str(req, "uin"), out, err);
}

static enum national_refusal r_search(struct pg *pg, const char *office, const json_t *req,
                                      json_t **out, struct err *err)
{
    json_t *res = NULL;
    (void)office;
    if (national_search(pg, nat_str(req, "query"),
                        (int)json_integer_value(json_object_get(req, "limit")), &res, err) != 0)
        return NATIONAL_BAD_REQUEST;
    *out = json_pack("{s:o}", "results", res);
    return NATIONAL_OK;
}

static enum national_refusal r_deaths(struct pg *pg, const char *office, const json_t *req,
                                      json_t **out, struct err *err)
{
    (void)office;
    if (national_deaths_since(pg, json_object_get(req, "cursors"),
                              (int)json_integer_value(json_object_get(req, "limit")), out,
                              err) != 0)
        return NATIONAL_BAD_REQUEST;
    return NATIONAL_OK;
}

static enum national_refusal r_duplicates(struct pg *pg, const char *office, const json_t *req,
                                          json_t **out, struct err *err)
{
    json_t *res = NULL;
    (void)req;
    if (national_duplicates_of(pg, office, &res, err) != 0)
        return NATIONAL_INTERNAL;
    *out = json_pack("{s:o}", "cases", res);
    return NATIONAL_OK;
}

static enum national_refusal r_uin_block(struct pg *pg, const char *office, const json_t *req,
                                         json_t **out, struct err *err)
{
    return national_uin_block(pg, office, (int)json_integer_value(json_object_get(req, "count")),
                              out, err);
}

static const struct {
    const char *path;
    route_fn fn;
} routes[] = {
    { "/national/v1/head", r_head },
    { "/national/v1/push", national_push },
    { "/national/v1/person", r_person },
    { "/national/v1/search", r_search },
    { "/national/v1/uin-block", r_uin_block },
    { "/national/v1/deaths", r_deaths },
    { "/national/v1/duplicates", r_duplicates },
};

static int status_of(enum national_refusal r)
{
    switch (r) {
    case NATIONAL_OK: return 200;
    case NATIONAL_BAD_REQUEST: return 400;
    case NATIONAL_UNAUTHORIZED: return 401;
    case NATIONAL_NOT_FOUND: return 404;
    case NATIONAL_STALE:
    case NATIONAL_FORK: return 409;
    case NATIONAL_REFUSED: return 422;
    case NATIONAL_INTERNAL: break;
    }
    return 500;
}

static void reply(struct mg_connection *conn, int status, json_t *body)
{
    struct buf b = BUF_INIT((size_t)512 << 20);

    if (body == NULL || json_dump_compact(body, &b, NULL) != 0) {
        buf_release(&b);
        mg_send_http_error(conn, 500, "%s", "internal error");
        return;
    }
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\n\r\n",
              status, mg_get_response_code_text(conn, status), b.len);
    mg_write(conn, b.data, b.len);
    buf_release(&b);
}

static void reply_error(struct mg_connection *conn, int status, const char *code,
                        const char *msg, json_t *extra)
{
    json_t *o = json_pack("{s:s, s:s}", "error", code, "message", msg);
    if (o && extra)
        (void)json_object_update(o, extra);
    reply(conn, status, o);
    json_decref(o);
}

static const char *refusal_code(enum national_refusal r)
{
    switch (r) {
    case NATIONAL_BAD_REQUEST: return "bad_request";
    case NATIONAL_UNAUTHORIZED: return "unauthorized";
    case NATIONAL_STALE: return "stale";
    case NATIONAL_FORK: return "fork";
    case NATIONAL_REFUSED: return "refused";
    case NATIONAL_NOT_FOUND: return "not_found";
    default: return "internal";
    }
}

static int handler(struct mg_connection *conn, void *cbdata)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    struct nworker *w = mg_get_thread_pointer(conn);
    struct buf body = BUF_INIT(NATIONAL_BODY_MAX);
    struct err err = ERR_INIT;
    json_t *req = NULL, *out = NULL;
    route_fn fn = NULL;
    enum national_refusal r;
    char *chunk = NULL; /* CivetWeb's worker stacks are small: buffers on the heap */
    int n;

    (void)cbdata;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(ri->local_uri, routes[i].path) == 0)
            fn = routes[i].fn;
    if (fn == NULL) {
        reply_error(conn, 404, "not_found", "no such route", NULL);
        return 404;
    }
    if (strcmp(ri->request_method, "POST") != 0) {
        reply_error(conn, 405, "method", "POST only", NULL);
        return 405;
    }
    if (w == NULL || w->pg == NULL) {
        reply_error(conn, 503, "unavailable", "no database connection", NULL);
        return 503;
    }
    if ((chunk = malloc(65536)) == NULL) {
        reply_error(conn, 503, "unavailable", "out of memory", NULL);
        return 503;
    }
    while ((n = mg_read(conn, chunk, 65536)) > 0)
        if (buf_append(&body, chunk, (size_t)n) != 0) {
            free(chunk);
            reply_error(conn, 413, "too_large", "request body over the cap", NULL);
            return 413;
        }
    free(chunk);
    r = national_auth_check(w->pg, "POST", ri->local_uri, mg_get_header(conn, "X-Civreg-Office"),
                            mg_get_header(conn, "X-Civreg-Time"),
                            mg_get_header(conn, "X-Civreg-Nonce"),
                            mg_get_header(conn, "X-Civreg-Signature"), body.data, body.len, &err);
    if (r == NATIONAL_OK && json_parse((const char *)body.data, body.len, &req, &err) != 0)
        r = NATIONAL_BAD_REQUEST;
    if (r == NATIONAL_OK)
        r = fn(w->pg, mg_get_header(conn, "X-Civreg-Office"), req, &out, &err);
    if (r == NATIONAL_OK) {
        reply(conn, 200, out);
    } else {
        log_warn("national: %s %s from %s: %s", ri->local_uri, refusal_code(r),
                 mg_get_header(conn, "X-Civreg-Office") ? mg_get_header(conn, "X-Civreg-Office")
                                                        : "?",
                 err_msg(&err));
        reply_error(conn, status_of(r), refusal_code(r), err_msg(&err), out);
        /* a lost connection is reopened on the next request */
        if (r == NATIONAL_INTERNAL) {
            pg_close(w->pg);
            w->pg = NULL;
            struct nserve *s = mg_get_user_data(mg_get_context(conn));
            if (pg_open(s->pg_url, &w->pg, &err) != 0)
                log_warn("national: reconnecting: %s", err_msg(&err));
        }
    }
    json_decref(req);
    json_decref(out);
    buf_release(&body);
    return status_of(r);
}

static void *init_thread(const struct mg_context *ctx, int thread_type)
{
    struct nserve *s = mg_get_user_data(ctx);
    struct nworker *w;
    struct err err = ERR_INIT;

    if (thread_type != 1 || (w = calloc(1, sizeof *w)) == NULL)
        return NULL;
    if (pg_open(s->pg_url, &w->pg, &err) != 0)
        log_warn("national: worker: %s", err_msg(&err));
    return w;
}

static void exit_thread(const struct mg_context *ctx, int thread_type, void *p)
{
    struct nworker *w = p;
    (void)ctx;
    (void)thread_type;
    if (w) {
        pg_close(w->pg);
        free(w);
    }
}

static int log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    log_warn("national: civetweb: %s", message);
    return 1;
}

/* CivetWeb hands us its OpenSSL context: the certificate chain and the key
 * from their own files, TLS 1.2 or later. */
static int init_ssl(void *ssl_ctx, void *user_data)
{
    struct nserve *s = user_data;

    return tls_server_setup(ssl_ctx, "national serve", s->tls_cert, s->tls_key);
}

/* Whether ADDR:PORT names a loopback address. */
static bool listen_is_loopback(const char *listen)
{
    char host[64];
    const char *colon = strrchr(listen, ':');
    size_t hl = colon ? (size_t)(colon - listen) : strlen(listen);
    struct in_addr a4;
    struct in6_addr a6;

    if (hl >= sizeof host)
        return false;
    memcpy(host, listen, hl);
    host[hl] = '\0';
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int national_serve(const struct national_serve_opts *o, struct err *err)
{
    struct nserve s = { o->pg_url, o->tls_cert, o->tls_key };
    bool tls = o->tls_cert != NULL;
    char ports_opt[160];
    struct mg_callbacks cb;
    struct mg_init_data init;
    struct mg_error_data errdata;
    struct mg_context *ctx;
    struct mg_server_port ports[2];
    struct pg *pg = NULL;
    char threads[16], errtext[256] = "";
    unsigned errcode = 0;
    sigset_t set, old;
    int sig = 0;
    const char *options[] = { "listening_ports", ports_opt, "num_threads", threads,
                              "request_timeout_ms", "120000", "enable_keep_alive", "yes",
                              "tcp_nodelay", "1", NULL };

    if ((o->tls_cert == NULL) != (o->tls_key == NULL))
        return err_set(err, "national serve: --tls-cert and --tls-key go together");
    if (!tls && !o->insecure_loopback)
        return err_set(err, "national serve: TLS is required (--tls-cert FILE --tls-key FILE); "
                            "plain HTTP only with --insecure-loopback on a loopback address");
    if (!tls && !listen_is_loopback(o->listen))
        return err_set(err, "national serve: --insecure-loopback serves plain HTTP only on a "
                            "loopback address, not %s",
                       o->listen);
    if (tls && (o->tls_check == NULL || o->tls_check(err) != 0))
        return o->tls_check ? -1 : err_set(err, "national serve: TLS is not available");
    if (snprintf(ports_opt, sizeof ports_opt, "%s%s", o->listen, tls ? "s" : "") >=
        (int)sizeof ports_opt)
        return err_set(err, "national serve: --listen '%s' is too long", o->listen);
    /* the schema must be there before a worker starts */
    if (pg_open(o->pg_url, &pg, err) != 0)
        return -1;
    {
        int v = 0;
        if (pg_migrate(pg, &v, err) != 0) {
            pg_close(pg);
            return -1;
        }
    }
    pg_close(pg);
    (void)snprintf(threads, sizeof threads, "%d", o->threads > 0 ? o->threads : 8);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &set, &old) != 0)
        return err_set(err, "national serve: cannot block signals");
    memset(&cb, 0, sizeof cb);
    cb.init_thread = init_thread;
    cb.exit_thread = exit_thread;
    cb.log_message = log_message;
    if (tls)
        cb.init_ssl = init_ssl;
    memset(&init, 0, sizeof init);
    init.callbacks = &cb;
    init.user_data = &s;
    init.configuration_options = options;
    errdata.code = &errcode;
    errdata.text = errtext;
    errdata.text_buffer_size = sizeof errtext;
    mg_init_library(tls ? MG_FEATURES_TLS : 0);
    ctx = mg_start2(&init, &errdata);
    if (ctx == NULL) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        mg_exit_library();
        return err_set(err, "national serve: cannot listen on %s: %s", o->listen,
                       errtext[0] ? errtext : "unknown error");
    }
    mg_set_request_handler(ctx, "/national/", handler, NULL);
    if (mg_get_server_ports(ctx, 2, ports) > 0 && o->ready)
        o->ready(o->ctx, ports[0].port);
    do {
        if (sigwait(&set, &sig) != 0)
            break;
    } while (sig != SIGINT && sig != SIGTERM);
    log_info("national serve: stopping");
    mg_stop(ctx);
    mg_exit_library();
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return 0;
}
