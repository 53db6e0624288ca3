/* civreg national tier: the district client's connection, every step
 * bounded in time.
 *
 * One deadline for the whole request (connect, TLS handshake, request
 * written, answer read to its end) and a shorter one for the connection
 * and handshake: a tier that trickles its answer a byte at a time is cut
 * at the deadline like one that never answers. The socket is non-blocking
 * from the start; every wait is a poll() to the deadline. Each address
 * getaddrinfo gives is tried in turn; one that refuses fails at once (the
 * next address is tried, none is retried), so a tier that is down is
 * reported in milliseconds with the address that refused, not after the
 * timeout. The name lookup itself is bounded by the connection's deadline
 * too (lookup_bounded).
 *
 * Failures: a deadline passed is error code national_timeout, a tier
 * refused or unreachable national_unreachable (kind busy, both), an
 * untrusted certificate an invalid error without a code. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "national_int.h"

int64_t nat_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until FD is ready for EVENTS or DEADLINE (monotonic ms) passes:
 * 1 ready, 0 the deadline passed, -1 poll failed. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd p = { .fd = fd, .events = events };
        int64_t left = deadline - nat_now_ms();
        int n;

        if (left <= 0)
            return 0;
        n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/* OpenSSL writes to the socket with write(): a peer gone raises SIGPIPE,
 * which would end a command-line process without a word. Around each TLS
 * write SIGPIPE is blocked in this thread, and one raised meanwhile is
 * taken (curl's sigpipe_ignore), so the write fails with EPIPE instead. */
struct sigpipe_hold {
    sigset_t old;
    bool pending; /* a SIGPIPE was pending before: left for its owner */
};

static void sigpipe_block(struct sigpipe_hold *h)
{
    sigset_t pipe_set, pend;

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigemptyset(&pend);
    h->pending = sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE) == 1;
    (void)pthread_sigmask(SIG_BLOCK, &pipe_set, &h->old);
}

static void sigpipe_unblock(struct sigpipe_hold *h)
{
    sigset_t pipe_set, pend;
    const struct timespec zero = { 0, 0 };

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigemptyset(&pend);
    if (!h->pending && sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE) == 1)
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    (void)pthread_sigmask(SIG_SETMASK, &h->old, NULL);
}

static int timed_out(const struct nat_conn *k, const char *what, int seconds, struct err *err)
{
    err_setk(err, ERR_BUSY, "national %s: %s within %d s (timeout)", k->target, what, seconds);
    return err_code(err, "national_timeout", NULL);
}

static int unreachable(const struct nat_conn *k, const char *what, struct err *err)
{
    err_setk(err, ERR_BUSY, "national %s: %s", k->target, what);
    return err_code(err, "national_unreachable", NULL);
}

/* The address AI as "ADDR port N". */
static void addr_text(const struct addrinfo *ai, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;

    if (ai->ai_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)ai->ai_addr;
        (void)inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
    } else if (ai->ai_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)ai->ai_addr;
        (void)inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
    }
    (void)snprintf(out, size, "%s port %d", host, port);
}

/* One address: 0 connected (K's fd set), else the errno of the failure
 * (ETIMEDOUT: UNTIL passed). */
static int connect_one(struct nat_conn *k, const struct addrinfo *ai, int64_t until)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), e = 0;
    socklen_t el = sizeof e;

    if (fd < 0)
        return errno;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            e = errno;
        } else {
            int w = wait_fd(fd, POLLOUT, until);
            if (w == 0)
                e = ETIMEDOUT;
            else if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
                e = errno ? errno : EIO;
        }
    }
    if (e != 0) {
        close(fd);
        return e;
    }
    k->fd = fd;
    return 0;
}

/* The name lookup, bounded. getaddrinfo has no time limit of its own: a
 * resolver that never answers holds it for the resolver's timeout times its
 * attempts times its servers (resolv.conf), longer through some NSS
 * modules. So a name is looked up on a thread of its own, which the
 * connecting thread waits for until the connection's deadline; a lookup
 * still running then is abandoned, not cancelled (getaddrinfo cannot be):
 * the lookup is shared by the two threads, and whichever is done with it
 * last frees it, the addresses found too. A numeric address needs no
 * lookup and no thread. */
static _Atomic(nat_lookup_fn) lookup_fn; /* NULL: getaddrinfo */

void nat_conn_set_lookup(nat_lookup_fn fn)
{
    atomic_store(&lookup_fn, fn);
}

struct lookup {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    int refs;          /* the waiting thread and the looking-up thread */
    bool done;
    int rc;                /* getaddrinfo's */
    int sys_errno;         /* its errno, for EAI_SYSTEM */
    struct addrinfo *res;  /* when rc is 0 */
    nat_lookup_fn fn;
    struct addrinfo hints;
    char host[256], port[8];
};

/* Drop one reference to L (its lock held): the last one frees it. */
static void lookup_put(struct lookup *l)
{
    bool last = --l->refs == 0;

    pthread_mutex_unlock(&l->mu);
    if (!last)
        return;
    if (l->res)
        freeaddrinfo(l->res);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static void *lookup_run(void *arg)
{
    struct lookup *l = arg;
    struct addrinfo *res = NULL;
    int rc = l->fn(l->host, l->port, &l->hints, &res), e = errno;

    pthread_mutex_lock(&l->mu);
    l->rc = rc;
    l->sys_errno = e;
    l->res = rc == 0 ? res : NULL;
    l->done = true;
    pthread_cond_signal(&l->cv);
    lookup_put(l);
    return NULL;
}

/* HOST's addresses for PORT into *RES (freeaddrinfo) before UNTIL: 0, a
 * getaddrinfo error code, or EAI_AGAIN with *TIMEOUT set when UNTIL
 * passed (or EAI_MEMORY / EAI_SYSTEM when no thread could look it up). */
static int lookup_bounded(const char *host, const char *port, const struct addrinfo *hints,
                          int64_t until, struct addrinfo **res, bool *timeout)
{
    struct addrinfo numeric = *hints;
    struct lookup *l;
    pthread_condattr_t ca;
    pthread_attr_t ta;
    pthread_t t;
    sigset_t all, old;
    struct timespec at;
    int rc, e = 0;

    *res = NULL;
    *timeout = false;
    numeric.ai_flags |= AI_NUMERICHOST;
    if (getaddrinfo(host, port, &numeric, res) == 0)
        return 0;
    *res = NULL;
    if ((l = calloc(1, sizeof *l)) == NULL)
        return EAI_MEMORY;
    l->fn = atomic_load(&lookup_fn);
    if (l->fn == NULL)
        l->fn = getaddrinfo;
    l->hints = *hints;
    (void)snprintf(l->host, sizeof l->host, "%s", host);
    (void)snprintf(l->port, sizeof l->port, "%s", port);
    l->refs = 2;
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    /* the thread takes no signal of the process's; it may outlive us */
    pthread_attr_init(&ta);
    pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
    sigfillset(&all);
    (void)pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&t, &ta, lookup_run, l);
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&ta);
    pthread_mutex_lock(&l->mu);
    if (rc != 0) {
        l->refs = 1;
        lookup_put(l);
        errno = rc;
        return EAI_SYSTEM;
    }
    at.tv_sec = (time_t)(until / 1000);
    at.tv_nsec = (long)(until % 1000) * 1000000;
    /* any error of the wait (ETIMEDOUT, or a deadline it cannot take)
     * ends it: the lookup is not waited for past UNTIL */
    while (!l->done && pthread_cond_timedwait(&l->cv, &l->mu, &at) == 0)
        ;
    if (l->done) {
        rc = l->rc;
        e = l->sys_errno;
        *res = l->res; /* taken: the thread is done with it */
        l->res = NULL;
    } else {
        rc = EAI_AGAIN;
        *timeout = true;
    }
    lookup_put(l);
    errno = e;
    return rc;
}

/* A TCP connection to C's host and port before UNTIL. */
static int connect_tcp(const struct national_client *c, struct nat_conn *k, int64_t until,
                       int seconds, struct err *err)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV },
                    *res = NULL;
    char port[8], last[INET6_ADDRSTRLEN + 16] = "", why[400] = "";
    bool timeout = false;
    int g;

    (void)snprintf(port, sizeof port, "%d", c->port);
    if ((g = lookup_bounded(c->host, port, &hints, until, &res, &timeout)) != 0) {
        if (timeout) {
            (void)snprintf(why, sizeof why, "no address for %s", c->host);
            return timed_out(k, why, seconds, err);
        }
        (void)snprintf(why, sizeof why, "cannot resolve %s: %s", c->host,
                       g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
        return unreachable(k, why, err);
    }
    for (const struct addrinfo *ai = res; ai != NULL && k->fd < 0; ai = ai->ai_next) {
        int e;
        if (nat_now_ms() >= until) {
            timeout = true;
            break;
        }
        if ((e = connect_one(k, ai, until)) == 0)
            break;
        addr_text(ai, last, sizeof last);
        timeout = e == ETIMEDOUT;
        /* every address tried and why it failed, for the message */
        (void)snprintf(why + strlen(why), sizeof why - strlen(why), "%s%s: %s",
                       why[0] ? "; " : "cannot connect to ", last,
                       e == ECONNREFUSED ? "connection refused" : strerror(e));
    }
    freeaddrinfo(res);
    if (k->fd >= 0)
        return 0;
    if (timeout) {
        char what[200];
        (void)snprintf(what, sizeof what, "no connection%s%s", last[0] ? " to " : "", last);
        return timed_out(k, what, seconds, err);
    }
    if (why[0] == '\0')
        return unreachable(k, "no address to connect to", err);
    (void)snprintf(why + strlen(why), sizeof why - strlen(why),
                   " (is the national service running there?)");
    return unreachable(k, why, err);
}

/* The first OpenSSL error as text, for a message. */
static const char *ssl_why(char *buf, size_t size)
{
    unsigned long e = ERR_get_error();
    if (e == 0)
        return "connection closed";
    ERR_error_string_n(e, buf, size);
    ERR_clear_error();
    return buf;
}

/* The TLS client context and session of K, the server's name or address
 * to be verified. */
static int tls_setup(const struct national_client *c, struct nat_conn *k, struct err *err)
{
    char why[256];
    struct in_addr a4;
    struct in6_addr a6;
    X509_VERIFY_PARAM *vp;
    bool ip = inet_pton(AF_INET, c->host, &a4) == 1 || inet_pton(AF_INET6, c->host, &a6) == 1;

    if ((k->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
        return err_set(err, "national: TLS: %s", ssl_why(why, sizeof why));
    SSL_CTX_set_min_proto_version(k->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(k->ctx, SSL_VERIFY_PEER, NULL);
    if ((c->ca_file ? SSL_CTX_load_verify_locations(k->ctx, c->ca_file, NULL)
                    : SSL_CTX_set_default_verify_paths(k->ctx)) != 1)
        return err_set(err, "national: cannot load the CA certificates %s: %s",
                       c->ca_file ? c->ca_file : "(system)", ssl_why(why, sizeof why));
    if ((k->ssl = SSL_new(k->ctx)) == NULL)
        return err_set(err, "national: TLS: %s", ssl_why(why, sizeof why));
    vp = SSL_get0_param(k->ssl);
    if (ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, c->host) != 1
           : (SSL_set_tlsext_host_name(k->ssl, c->host) != 1 ||
              SSL_set1_host(k->ssl, c->host) != 1))
        return err_set(err, "national: TLS: cannot set the expected name %s", c->host);
    if (SSL_set_fd(k->ssl, k->fd) != 1)
        return err_set(err, "national: TLS: %s", ssl_why(why, sizeof why));
    return 0;
}

/* What to wait for after an SSL call that returned R: POLLIN, POLLOUT, or
 * 0 when it failed for good. */
static short ssl_wants(const struct nat_conn *k, int r)
{
    switch (SSL_get_error(k->ssl, r)) {
    case SSL_ERROR_WANT_READ: return POLLIN;
    case SSL_ERROR_WANT_WRITE: return POLLOUT;
    default: return 0;
    }
}

static int tls_handshake(struct nat_conn *k, int64_t until, int seconds, struct err *err)
{
    char why[256];

    for (;;) {
        struct sigpipe_hold h;
        int r, w;
        short ev;
        long v;

        sigpipe_block(&h);
        r = SSL_connect(k->ssl);
        sigpipe_unblock(&h);

        if (r == 1)
            break;
        if ((ev = ssl_wants(k, r)) == 0) {
            if ((v = SSL_get_verify_result(k->ssl)) != X509_V_OK)
                return err_set(err, "national %s: the server's certificate is not trusted: %s",
                               k->target, X509_verify_cert_error_string(v));
            (void)snprintf(why, sizeof why, "TLS handshake failed: ");
            (void)ssl_why(why + strlen(why), sizeof why - strlen(why));
            return unreachable(k, why, err);
        }
        if ((w = wait_fd(k->fd, ev, until)) == 0)
            return timed_out(k, "no TLS handshake", seconds, err);
        if (w < 0)
            return unreachable(k, "TLS handshake: poll failed", err);
    }
    if (SSL_get_verify_result(k->ssl) != X509_V_OK)
        return err_set(err, "national %s: the server's certificate is not trusted", k->target);
    return 0;
}

int nat_conn_open(const struct national_client *c, struct nat_conn *k, struct err *err)
{
    int64_t start = nat_now_ms();
    int connect_s = c->timeout_s < NAT_CONNECT_TIMEOUT_S ? c->timeout_s : NAT_CONNECT_TIMEOUT_S;
    int64_t until = start + (int64_t)connect_s * 1000;

    memset(k, 0, sizeof *k);
    k->fd = -1;
    k->deadline = start + (int64_t)c->timeout_s * 1000;
    k->timeout_s = c->timeout_s;
    (void)snprintf(k->target, sizeof k->target, "%s:%d", c->host, c->port);
    ERR_clear_error();
    if (connect_tcp(c, k, until, connect_s, err) != 0 ||
        (c->tls && (tls_setup(c, k, err) != 0 || tls_handshake(k, until, connect_s, err) != 0))) {
        nat_conn_close(k);
        return -1;
    }
    return 0;
}

void nat_conn_close(struct nat_conn *k)
{
    if (k->ssl) {
        struct sigpipe_hold h;
        /* a close_notify if the socket takes it now; never a wait */
        sigpipe_block(&h);
        if (SSL_is_init_finished(k->ssl))
            (void)SSL_shutdown(k->ssl);
        sigpipe_unblock(&h);
        SSL_free(k->ssl);
    }
    SSL_CTX_free(k->ctx);
    if (k->fd >= 0)
        close(k->fd);
    ERR_clear_error();
    memset(k, 0, sizeof *k);
    k->fd = -1;
}

int nat_conn_write(struct nat_conn *k, const void *data, size_t len, struct err *err)
{
    const unsigned char *p = data;

    while (len > 0) {
        short ev = POLLOUT;
        size_t n = 0;
        int w;

        if (nat_now_ms() >= k->deadline)
            return timed_out(k, "request not taken", k->timeout_s, err);

        if (k->ssl) {
            struct sigpipe_hold h;
            int r;
            sigpipe_block(&h);
            r = SSL_write_ex(k->ssl, p, len, &n);
            sigpipe_unblock(&h);
            if (r != 1 && (ev = ssl_wants(k, r)) == 0)
                return unreachable(k, "sending the request failed (connection closed)", err);
        } else {
            ssize_t r = send(k->fd, p, len, MSG_NOSIGNAL);
            if (r > 0)
                n = (size_t)r;
            else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return unreachable(k, "sending the request failed (connection closed)", err);
        }
        p += n;
        len -= n;
        if (n > 0)
            continue;
        if ((w = wait_fd(k->fd, ev, k->deadline)) == 0)
            return timed_out(k, "request not taken", k->timeout_s, err);
        if (w < 0)
            return unreachable(k, "sending the request: poll failed", err);
    }
    return 0;
}

int nat_conn_read(struct nat_conn *k, void *buf, size_t cap, size_t *got, struct err *err)
{
    *got = 0;
    for (;;) {
        short ev = POLLIN;
        int w;

        /* checked before every read: an answer trickling in does not
         * move the deadline */
        if (nat_now_ms() >= k->deadline)
            return timed_out(k, "no complete answer", k->timeout_s, err);

        if (k->ssl) {
            int r = SSL_read_ex(k->ssl, buf, cap, got);
            if (r == 1)
                return 0;
            if (SSL_get_error(k->ssl, r) == SSL_ERROR_ZERO_RETURN)
                return 0; /* the end: *GOT 0 */
            if ((ev = ssl_wants(k, r)) == 0) {
                /* a server that closes without close_notify ends the answer
                 * too (Connection: close); the length is checked after */
                ERR_clear_error();
                return 0;
            }
        } else {
            ssize_t r = recv(k->fd, buf, cap, 0);
            if (r >= 0) {
                *got = (size_t)r;
                return 0;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return unreachable(k, "reading the answer failed (connection reset)", err);
        }
        if ((w = wait_fd(k->fd, ev, k->deadline)) == 0)
            return timed_out(k, "no complete answer", k->timeout_s, err);
        if (w < 0)
            return unreachable(k, "reading the answer: poll failed", err);
    }
}
