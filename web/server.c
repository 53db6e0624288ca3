/* civreg web: server start-up, worker threads and shutdown. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tls.h"
#include "core/buf.h"
#include "civreg_version.h"
#include "core/log.h"
#include "core/secret.h"
#include "web.h"
#include "web_int.h"


/* Every open connection holds a worker (see conngate.h): enough for an
 * office's browsers, each keeping a few connections alive. */
#define WEB_DEFAULT_THREADS 64
#define WEB_MAX_THREADS 1024
/* Connections one address may hold at once: a quarter of the workers. */
#define WEB_DEFAULT_PER_ADDRESS 16
/* Seconds a client has to send its request headers (slowloris). */
#define WEB_DEFAULT_HEADER_TIMEOUT 10
#define WEB_NATIONAL_TIMEOUT 10 /* s: the national tier answering a screen */
/* Logged views waiting for the group commit at once (each worker waits for
 * at most one, so this is never reached with the default threads), and how
 * long one more waits for room before the answer is 503. */
#define WEB_WRITE_QUEUE 1024
#define WEB_WRITE_WAIT_MS 5000
/* Milliseconds an idle keep-alive connection is kept (at most the header
 * timeout: it holds a worker meanwhile). */
#define WEB_KEEP_ALIVE_MS 5000L

struct web_worker *web_worker_of(const struct mg_connection *conn)
{
    return mg_get_thread_pointer(conn);
}

static void *init_thread(const struct mg_context *ctx, int thread_type)
{
    struct web_server *srv = mg_get_user_data(ctx);
    struct web_worker *w;
    struct err err = ERR_INIT;

    if (thread_type != 1) /* only workers serve requests */
        return NULL;
    w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    /* One SQLite connection per worker thread, never shared. */
    if (datadir_db_open(srv->dd, 0, &w->db, &err) != 0)
        log_error("web: worker cannot open the database: %s", err_msg(&err));
    return w;
}

static void exit_thread(const struct mg_context *ctx, int thread_type, void *p)
{
    struct web_worker *w = p;

    (void)ctx;
    (void)thread_type;
    if (w == NULL)
        return;
    web_worker_pki_close(w);
    db_close(w->db);
    free(w);
}

/* Every connection goes through the connection gate (conngate.h): counted
 * per client address, closed at once over the cap. */
static int init_connection(const struct mg_connection *conn, void **conn_data)
{
    struct web_server *srv = mg_get_user_data(mg_get_context(conn));

    *conn_data = NULL;
    if (srv != NULL && srv->gate != NULL)
        web_conngate_open(srv->gate, conn);
    return 0;
}

static void connection_close(const struct mg_connection *conn)
{
    struct web_server *srv = mg_get_user_data(mg_get_context(conn));

    if (srv != NULL && srv->gate != NULL)
        web_conngate_close(srv->gate, conn);
}

/* CivetWeb up to 1.15 loads OpenSSL with dlopen("libssl.so") and calls
 * SSL_get_peer_certificate on every TLS connection; OpenSSL 3 exports that
 * name no more (it became a macro for SSL_get1_peer_certificate), so such a
 * CivetWeb jumps to a NULL pointer on the first HTTPS request (Debian 12:
 * CivetWeb 1.15 with OpenSSL 3.0). There, load the compatibility object from
 * web/tls_compat/ first (web_tls_compat_load); if the name still cannot be
 * resolved, refuse TLS clearly rather than start a server that dies on its
 * first client. */
static int check_tls_usable(struct err *err)
{
    const char *v = mg_version();
    char *end = NULL;
    long major = strtol(v, &end, 10), minor = 0;
    void *h;
    bool missing;

    if (end != NULL && *end == '.')
        minor = strtol(end + 1, NULL, 10);
    if (mg_check_feature(MG_FEATURES_TLS) == 0)
        return err_set(err, "serve: this CivetWeb (%s) was built without TLS", v);
    if (major > 1 || (major == 1 && minor > 15))
        return 0;
    if (web_tls_compat_load(err) != 0)
        return err_prefix(err, "serve: TLS is not usable with this system's CivetWeb %s", v);
    /* What CivetWeb's own dlopen("libssl.so") will get, and whether the
     * name it needs resolves there. */
    h = dlopen("libssl.so", RTLD_NOW | RTLD_NOLOAD);
    missing = h == NULL || dlsym(h, "SSL_get_peer_certificate") == NULL ||
              dlsym(h, "SSL_CTX_new") == NULL;
    if (h != NULL)
        dlclose(h);
    if (missing)
        return err_set(err,
                       "serve: TLS is not usable with this system's CivetWeb %s and OpenSSL 3 "
                       "(CivetWeb calls SSL_get_peer_certificate, which OpenSSL 3 removed, and "
                       "would crash on the first HTTPS request); serve plain HTTP on 127.0.0.1 "
                       "behind a TLS reverse proxy instead",
                       v);
    return 0;
}

int web_tls_usable(struct err *err)
{
    return check_tls_usable(err);
}

/* TLS: CivetWeb hands us its OpenSSL context; the certificate chain and
 * the key come from separate files (CivetWeb alone wants them in one). */
static int init_ssl(void *ssl_ctx, void *user_data)
{
    struct web_server *srv = user_data;

    return tls_server_setup(ssl_ctx, "serve", srv->tls_cert, srv->tls_key);
}

/* A whole number from civreg.conf within [MIN, MAX], or DEFLT. */
static int conf_number(const struct conf *c, const char *key, long deflt, long min, long max,
                       long *out, struct err *err)
{
    const char *v = conf_get(c, key, NULL);
    char *end = NULL;
    long n;

    if (v == NULL) {
        *out = deflt;
        return 0;
    }
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
        return err_set(err, "civreg.conf: %s must be a number from %ld to %ld", key, min, max);
    *out = n;
    return 0;
}

/* Session lifetimes from civreg.conf (minutes / hours), with defaults. */
static int conf_seconds(const struct conf *c, const char *key, long deflt, long unit, long max,
                        time_t *out, struct err *err)
{
    long n = 0;

    if (conf_number(c, key, deflt, 1, max, &n, err) != 0)
        return -1;
    *out = (time_t)(n * unit);
    return 0;
}

/* The sign-in throttle from civreg.conf (see throttle.h and docs/web.md):
 * per (address, name) 5 failures, then 15 s doubling to 15 minutes; per
 * address 100; all together 1000, then 5 s doubling to a minute; runs of
 * failures counted over 15 minutes. */
static int signin_limits(const struct conf *c, struct web_throttle_limits *lim, struct err *err)
{
    long free_ = 0, base = 0, max = 0, addr = 0, global = 0;

    if (conf_number(c, "signin_free_attempts", 5, 1, 1000, &free_, err) != 0 ||
        conf_number(c, "signin_backoff_seconds", 15, 1, 3600, &base, err) != 0 ||
        conf_number(c, "signin_backoff_max_seconds", 15 * 60, 1, 24 * 3600, &max, err) != 0 ||
        conf_number(c, "signin_address_limit", 100, 1, 1000000, &addr, err) != 0 ||
        conf_number(c, "signin_global_limit", 1000, 1, 10000000, &global, err) != 0)
        return -1;
    if (max < base)
        return err_set(err, "civreg.conf: signin_backoff_max_seconds must be at least "
                            "signin_backoff_seconds");
    lim->pair = (struct web_throttle_rule){ (unsigned)free_, base, max };
    lim->addr = (struct web_throttle_rule){ (unsigned)addr, base * 2 < max ? base * 2 : max, max };
    lim->global = (struct web_throttle_rule){ (unsigned)global, 5, 60 };
    lim->window = 15 * 60;
    lim->max_entries = 4096;
    return 0;
}

static int log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    log_warn("http: %s", message);
    return 1;
}

/* "127.0.0.1:8080" -> CivetWeb's listening_ports syntax, which is the same
 * for IPv4; IPv6 is written "[::1]:8080" in both. Checked here so a typo gets
 * a clear message instead of CivetWeb's. */
static int check_listen(const char *listen, struct err *err)
{
    const char *colon = strrchr(listen, ':');
    char *end = NULL;
    long port;

    if (colon == NULL || colon == listen)
        return err_set(err, "listen: '%s' must be ADDRESS:PORT (e.g. 127.0.0.1:8080)", listen);
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || port < 0 || port > 65535)
        return err_set(err, "listen: '%s': port must be a number from 0 to 65535", listen);
    for (const char *p = listen; p < colon; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F') ||
              *p == '.' || *p == ':' || *p == '[' || *p == ']'))
            return err_set(err, "listen: '%s': address must be numeric IPv4 or [IPv6]", listen);
    return 0;
}

int web_serve(const struct web_options *opts, struct err *err)
{
    struct web_server srv = { 0 };
    struct mg_callbacks cb;
    struct mg_init_data init;
    struct mg_error_data errdata;
    struct mg_context *ctx = NULL;
    struct mg_server_port ports[4];
    struct db *db = NULL;
    char errtext[256] = "", threads[16];
    unsigned errcode = 0;
    const char *listen;
    sigset_t set, old;
    struct web_session_limits slim = { 0, 0, 10000 };
    struct web_throttle_limits tlim;
    /* public seal checks: 30 a minute per address, then 30 s doubling to 5 min */
    const struct web_throttle_limits seal_lim = { { 0, 0, 0 }, { 30, 30, 5 * 60 }, { 0, 0, 0 },
                                                  60, 4096 };
    long nthreads = 0, per_addr = 0, header_s = 0;
    char timeout_ms[24], keepalive_ms[24];
    struct timespec tick = { 30, 0 };
    char ports_opt[160];
    int sig = 0, n, rc = -1;
    const char *options[] = {
        "listening_ports", NULL,
        "num_threads", threads,
        /* CivetWeb bounds the whole wait for a request's headers by this
         * (not each read), so a slow sender is cut off in time; the same
         * value bounds each wait for body bytes and for the client to take
         * the answer. */
        "request_timeout_ms", timeout_ms,
        "enable_keep_alive", "yes",
        "keep_alive_timeout_ms", keepalive_ms,
        /* Headers and body go out in separate writes: without this, Nagle
         * and the client's delayed ACK add 40 ms to every keep-alive answer. */
        "tcp_nodelay", "1",
        NULL,
    };

    if ((opts->tls_cert == NULL) != (opts->tls_key == NULL))
        return err_set(err, "serve: --tls-cert and --tls-key go together");
    if (secret_init(err) != 0)
        return -1;
    if (opts->tls_cert != NULL && check_tls_usable(err) != 0)
        return -1;
    if (opts->demo) {
        bool created = false;
        if (web_demo_prepare(opts->data_dir, WEB_DEMO_RECORDS, &created, err) != 0)
            return -1;
        if (created)
            log_info("demo: created %s", opts->data_dir);
    }
    if (datadir_open(opts->data_dir, &srv.dd, err) != 0)
        return -1;
    srv.tls = opts->tls_cert != NULL;
    srv.tls_cert = opts->tls_cert;
    srv.tls_key = opts->tls_key;
    web_assets_fingerprint(srv.asset_fp);
    if (conf_seconds(srv.dd->conf, "session_idle_minutes", 30, 60, 24 * 60, &slim.idle, err) !=
            0 ||
        conf_seconds(srv.dd->conf, "session_max_hours", 12, 3600, 24 * 7, &slim.absolute, err) !=
            0 ||
        web_sessions_new(&slim, &srv.sessions, err) != 0 ||
        conf_number(srv.dd->conf, "web_threads", WEB_DEFAULT_THREADS, 1, WEB_MAX_THREADS,
                    &nthreads, err) != 0 ||
        conf_number(srv.dd->conf, "max_connections_per_address", WEB_DEFAULT_PER_ADDRESS, 1,
                    WEB_MAX_THREADS, &per_addr, err) != 0 ||
        conf_number(srv.dd->conf, "header_timeout_seconds", WEB_DEFAULT_HEADER_TIMEOUT, 1, 300,
                    &header_s, err) != 0 ||
        web_addrset_parse(conf_get(srv.dd->conf, "trusted_proxies", NULL), &srv.trusted, err) !=
            0 ||
        signin_limits(srv.dd->conf, &tlim, err) != 0 ||
        web_throttle_new(&tlim, &srv.throttle, err) != 0 ||
        web_throttle_new(&seal_lim, &srv.seal_throttle, err) != 0 ||
        web_seal_limits_new(srv.dd->conf, &srv.seal, err) != 0 ||
        conf_get_uint(srv.dd->conf, "search_min_score", 750, 0, 1000, &srv.search_min_score,
                      err) != 0 ||
        conf_get_uint(srv.dd->conf, "national_timeout_seconds", WEB_NATIONAL_TIMEOUT, 1, 120,
                      &srv.national_timeout, err) != 0 ||
        web_trust_new(&srv.trust, err) != 0)
        goto out;
    srv.national_fetch = opts->national_fetch;
    srv.national_url = conf_get(srv.dd->conf, "national_url", NULL);
    /* Apply pending migrations once, before any worker opens a connection. */
    if (datadir_db_open(srv.dd, DB_OPEN_MIGRATE, &db, err) != 0 ||
        db_schema_version(db, &srv.schema_version, err) != 0)
        goto out;
    db_close(db);
    db = NULL;
    /* The group commit's writer and its own connection (db/group.h). */
    if (datadir_db_open(srv.dd, 0, &db, err) != 0 ||
        db_group_new(db, WEB_WRITE_QUEUE, WEB_WRITE_WAIT_MS, &srv.writes, err) != 0) {
        db = NULL; /* taken by db_group_new */
        goto out;
    }
    db = NULL;

    listen = opts->listen ? opts->listen : conf_get(srv.dd->conf, "listen", DATADIR_DEFAULT_LISTEN);
    if (check_listen(listen, err) != 0)
        goto out;
    /* CivetWeb marks a TLS port with a trailing 's'. */
    if (snprintf(ports_opt, sizeof ports_opt, "%s%s", listen, srv.tls ? "s" : "") >=
        (int)sizeof ports_opt) {
        err_set(err, "listen: '%s' is too long", listen);
        goto out;
    }
    options[1] = ports_opt;
    if (opts->threads > 0)
        nthreads = opts->threads;
    (void)snprintf(threads, sizeof threads, "%ld", nthreads);
    (void)snprintf(timeout_ms, sizeof timeout_ms, "%ld", header_s * 1000);
    (void)snprintf(keepalive_ms, sizeof keepalive_ms, "%ld",
                   header_s * 1000 < WEB_KEEP_ALIVE_MS ? header_s * 1000 : WEB_KEEP_ALIVE_MS);
    if (per_addr >= nthreads)
        log_warn("serve: max_connections_per_address (%ld) is not below the %ld worker "
                 "threads: one address can hold every worker",
                 per_addr, nthreads);
    /* Every counted connection holds a worker, so one slot per worker is
     * enough; a few more for those being let go. */
    if (web_conngate_new((unsigned)per_addr, (size_t)nthreads + 16, &srv.trusted, &srv.gate,
                         err) != 0)
        goto out;

    /* Block the stop signals before CivetWeb starts its threads (they
     * inherit the mask), so only sigwait() below receives them. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &set, &old) != 0) {
        err_set(err, "serve: cannot block signals");
        goto out;
    }

    memset(&cb, 0, sizeof cb);
    cb.init_thread = init_thread;
    cb.exit_thread = exit_thread;
    cb.init_connection = init_connection;
    cb.connection_close = connection_close;
    cb.log_message = log_message;
    if (srv.tls)
        cb.init_ssl = init_ssl;
    init.callbacks = &cb;
    init.user_data = &srv;
    init.configuration_options = options;
    errdata.code = &errcode;
    errdata.text = errtext;
    errdata.text_buffer_size = sizeof errtext;
    mg_init_library(srv.tls ? MG_FEATURES_TLS : 0);
    ctx = mg_start2(&init, &errdata);
    if (ctx == NULL) {
        err_set(err, "serve: cannot listen on %s: %s (is another server using it?)", listen,
                errtext[0] ? errtext : "unknown error");
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        mg_exit_library();
        goto out;
    }
    if (web_conngate_start(srv.gate, err) != 0) {
        mg_stop(ctx);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        mg_exit_library();
        goto out;
    }
    /* One handler for everything: the dispatcher applies the route table
     * (method, session, role, CSRF) before any feature code runs. */
    mg_set_request_handler(ctx, "/", web_dispatch, &srv);

    n = mg_get_server_ports(ctx, (int)(sizeof ports / sizeof ports[0]), ports);
    if (n > 0) {
        char host[128];
        const char *colon = strrchr(listen, ':');
        size_t hl = (size_t)(colon - listen);
        if (hl >= sizeof host)
            hl = sizeof host - 1;
        memcpy(host, listen, hl);
        host[hl] = '\0';
        if (strcmp(host, "0.0.0.0") == 0)
            (void)snprintf(host, sizeof host, "127.0.0.1");
        printf("civreg %s: listening on %s://%s:%d/ (data %s, schema %d)\n", CIVREG_VERSION,
               srv.tls ? "https" : "http", host, ports[0].port, opts->data_dir, srv.schema_version);
        if (opts->demo && web_demo_users[0].username != NULL) {
            printf("demo sign-ins (password \"%s\", demo mode only):", WEB_DEMO_PASSWORD);
            for (const struct web_demo_user *u = web_demo_users; u->username != NULL; u++)
                printf(" %s", u->username);
            printf("\nopen http%s://%s:%d/signin in a browser\n", srv.tls ? "s" : "", host,
                   ports[0].port);
        }
        fflush(stdout);
    }
    log_info("serve: started on %s with %s worker threads, %ld connections per address, "
             "%ld s for request headers%s",
             listen, threads, per_addr, header_s,
             srv.trusted.n ? ", behind trusted proxies" : "");

    /* Wake up now and then to end expired sessions, so an unlocked key
     * does not outlive its session on a quiet server. */
    for (;;) {
        sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGINT || sig == SIGTERM)
            break;
        (void)web_sessions_expire(srv.sessions, time(NULL));
        {
            unsigned long refused = web_conngate_refused(srv.gate);
            if (refused > 0)
                log_warn("serve: refused %lu connections over the per-address cap (%ld)",
                         refused, per_addr);
        }
    }
    log_info("serve: %s received, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    web_conngate_stop(srv.gate);
    mg_stop(ctx); /* waits for in-flight requests; exit_thread closes connections */
    {
        unsigned long writes = 0, commits = 0;
        db_group_stats(srv.writes, &writes, &commits);
        log_info("serve: %lu logged writes in %lu group commits", writes, commits);
    }
    db_group_free(srv.writes); /* no request is left to queue a write */
    srv.writes = NULL;
    mg_exit_library();
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    log_info("serve: stopped cleanly");
    rc = 0;
out:
    db_group_free(srv.writes);
    web_sessions_free(srv.sessions); /* wipes every unlocked key */
    web_throttle_free(srv.throttle);
    web_throttle_free(srv.seal_throttle);
    web_conngate_free(srv.gate);
    web_seal_limits_free(srv.seal);
    web_trust_free(srv.trust);
    db_close(db);
    datadir_free(srv.dd);
    return rc;
}
