/* civreg web: the connection gate (see conngate.h). */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client_addr.h"
#include "core/fanout.h"
#include "conngate.h"

#include <civetweb.h>

struct slot {
    char addr[WEB_ADDR_MAX]; /* "" = free */
    unsigned count;
};

enum { CONN_FREE, CONN_PENDING, CONN_COUNTED, CONN_DONE };

/* A connection between init_connection and connection_close. */
struct tracked {
    const struct mg_connection *conn;
    int state;
    void *token; /* CONN_COUNTED: from web_conngate_enter */
};

/* A connection to shut, copied out of CivetWeb's request info. */
struct refusal {
    char addr[WEB_ADDR_MAX];
    int remote_port, local_port, plain;
};

struct web_conngate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool locks, running, stopping;
    unsigned per_addr;
    size_t nslots, pending;
    struct slot *slots;
    struct tracked *conns;
    struct refusal *refusals; /* the thread's own scratch */
    struct web_addrset trusted;
    unsigned long refused;
};

/* The token of a connection let in without a slot (table full). */
static char uncounted;

int web_conngate_new(unsigned per_addr, size_t slots, const struct web_addrset *trusted,
                     struct web_conngate **out, struct err *err)
{
    struct web_conngate *g;

    *out = NULL;
    if (per_addr == 0 || slots == 0)
        return err_set(err, "connection gate: limits must be positive");
    g = calloc(1, sizeof *g);
    if (g == NULL)
        return err_setk(err, ERR_INTERNAL, "connection gate: out of memory");
    g->slots = calloc(slots, sizeof *g->slots);
    g->conns = calloc(slots, sizeof *g->conns);
    g->refusals = calloc(slots, sizeof *g->refusals);
    if (g->slots == NULL || g->conns == NULL || g->refusals == NULL) {
        web_conngate_free(g);
        return err_setk(err, ERR_INTERNAL, "connection gate: out of memory");
    }
    if (pthread_mutex_init(&g->mu, NULL) != 0) {
        free(g->slots);
        free(g->conns);
        free(g->refusals);
        free(g);
        return err_set(err, "connection gate: cannot create the lock");
    }
    if (pthread_cond_init(&g->cv, NULL) != 0) {
        pthread_mutex_destroy(&g->mu);
        free(g->slots);
        free(g->conns);
        free(g->refusals);
        free(g);
        return err_set(err, "connection gate: cannot create the lock");
    }
    g->locks = true;
    g->per_addr = per_addr;
    g->nslots = slots;
    if (trusted != NULL)
        g->trusted = *trusted;
    *out = g;
    return 0;
}

void web_conngate_free(struct web_conngate *g)
{
    if (g == NULL)
        return;
    web_conngate_stop(g);
    if (g->locks) {
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
    }
    free(g->slots);
    free(g->conns);
    free(g->refusals);
    free(g);
}

/* Under the lock. */
static void *enter_locked(struct web_conngate *g, const char *addr)
{
    struct slot *found = NULL, *free_slot = NULL;
    size_t n = strlen(addr);

    if (n >= WEB_ADDR_MAX)
        n = WEB_ADDR_MAX - 1;
    for (size_t i = 0; i < g->nslots; i++) {
        struct slot *s = &g->slots[i];
        if (s->addr[0] == '\0') {
            if (free_slot == NULL)
                free_slot = s;
        } else if (strncmp(s->addr, addr, n) == 0 && s->addr[n] == '\0') {
            found = s;
            break;
        }
    }
    if (found == NULL && free_slot != NULL) {
        found = free_slot;
        memcpy(found->addr, addr, n);
        found->addr[n] = '\0';
        found->count = 0;
    }
    if (found == NULL)
        return &uncounted;
    if (found->count >= g->per_addr) {
        g->refused++;
        return NULL;
    }
    found->count++;
    return found;
}

static void leave_locked(void *token)
{
    struct slot *s = token;

    if (token == NULL || token == &uncounted)
        return;
    if (s->count > 0 && --s->count == 0)
        s->addr[0] = '\0';
}

void *web_conngate_enter(struct web_conngate *g, const char *addr)
{
    void *token;

    pthread_mutex_lock(&g->mu);
    token = enter_locked(g, addr);
    pthread_mutex_unlock(&g->mu);
    return token;
}

void web_conngate_leave(struct web_conngate *g, void *token)
{
    pthread_mutex_lock(&g->mu);
    leave_locked(token);
    pthread_mutex_unlock(&g->mu);
}

unsigned long web_conngate_refused(struct web_conngate *g)
{
    unsigned long n;

    pthread_mutex_lock(&g->mu);
    n = g->refused;
    g->refused = 0;
    pthread_mutex_unlock(&g->mu);
    return n;
}

void web_conngate_open(struct web_conngate *g, const struct mg_connection *conn)
{
    pthread_mutex_lock(&g->mu);
    for (size_t i = 0; i < g->nslots; i++)
        if (g->conns[i].state == CONN_FREE) {
            g->conns[i].conn = conn;
            g->conns[i].state = CONN_PENDING;
            g->conns[i].token = NULL;
            g->pending++;
            pthread_cond_signal(&g->cv);
            break;
        }
    /* No entry free: more connections than workers, cannot happen; the
     * connection goes uncounted. */
    pthread_mutex_unlock(&g->mu);
}

void web_conngate_close(struct web_conngate *g, const struct mg_connection *conn)
{
    pthread_mutex_lock(&g->mu);
    for (size_t i = 0; i < g->nslots; i++) {
        struct tracked *t = &g->conns[i];
        if (t->state == CONN_FREE || t->conn != conn)
            continue;
        if (t->state == CONN_PENDING)
            g->pending--;
        else if (t->state == CONN_COUNTED)
            leave_locked(t->token);
        memset(t, 0, sizeof *t);
        break;
    }
    pthread_mutex_unlock(&g->mu);
}

/* Under the lock: count the pending connections whose address CivetWeb
 * has set; those over the cap go into G->refusals. Returns how many, and
 * *WAITING = some are not ready yet. */
static size_t admit_pending(struct web_conngate *g, bool *waiting)
{
    size_t nref = 0;

    *waiting = false;
    for (size_t i = 0; i < g->nslots && g->pending > 0; i++) {
        struct tracked *t = &g->conns[i];
        const struct mg_request_info *ri;

        if (t->state != CONN_PENDING)
            continue;
        /* NULL until the worker has left init_connection: a moment. */
        ri = mg_get_request_info(t->conn);
        if (ri == NULL) {
            *waiting = true;
            continue;
        }
        g->pending--;
        t->state = CONN_DONE;
        if (web_addrset_contains(&g->trusted, ri->remote_addr))
            continue;
        t->token = enter_locked(g, ri->remote_addr);
        if (t->token != NULL) {
            t->state = CONN_COUNTED;
            continue;
        }
        memcpy(g->refusals[nref].addr, ri->remote_addr, WEB_ADDR_MAX);
        g->refusals[nref].addr[WEB_ADDR_MAX - 1] = '\0';
        g->refusals[nref].remote_port = ri->remote_port;
        g->refusals[nref].local_port = ri->server_port;
        g->refusals[nref].plain = !ri->is_ssl;
        nref++;
    }
    return nref;
}

static void *gate_thread(void *arg)
{
    struct web_conngate *g = arg;

    pthread_mutex_lock(&g->mu);
    while (!g->stopping) {
        bool waiting;
        size_t nref;

        if (g->pending == 0) {
            pthread_cond_wait(&g->cv, &g->mu);
            continue;
        }
        nref = admit_pending(g, &waiting);
        pthread_mutex_unlock(&g->mu);
        /* Shut outside the lock: the workers' callbacks need it. */
        for (size_t i = 0; i < nref; i++)
            (void)web_conn_shut(g->refusals[i].addr, g->refusals[i].remote_port,
                                g->refusals[i].local_port, g->refusals[i].plain);
        if (waiting) {
            const struct timespec pause = { 0, 200 * 1000 };
            nanosleep(&pause, NULL);
        }
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int web_conngate_start(struct web_conngate *g, struct err *err)
{
    if (pthread_create(&g->thread, NULL, gate_thread, g) != 0)
        return err_set(err, "connection gate: cannot start its thread");
    g->running = true;
    return 0;
}

void web_conngate_stop(struct web_conngate *g)
{
    if (g == NULL || !g->running)
        return;
    thread_stop(g->thread, &g->mu, &g->cv, &g->stopping);
    g->running = false;
}

union sa {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    struct sockaddr_storage ss;
};

static int sa_port(const union sa *a)
{
    return ntohs(a->sa.sa_family == AF_INET ? a->in.sin_port : a->in6.sin6_port);
}

/* Is A the address WANT (of family FAM) at port PORT? */
static bool sa_is(const union sa *a, int fam, const unsigned char *want, int port)
{
    if (a->sa.sa_family != fam || sa_port(a) != port)
        return false;
    return fam == AF_INET ? memcmp(&a->in.sin_addr, want, 4) == 0
                          : memcmp(&a->in6.sin6_addr, want, 16) == 0;
}

/* CivetWeb's public API does not hand out a connection's socket, but the
 * socket is this process's file descriptor whose peer is the connection's
 * (address, port) and whose local port is the server's: a TCP connection
 * is unique by those, and only the worker calling this owns and closes it,
 * so the descriptor found cannot change under us. */
static int find_socket(const char *remote_addr, int remote_port, int local_port)
{
    unsigned char want[16];
    int fam, fd = -1;
    DIR *d;
    struct dirent *de;

    if (inet_pton(AF_INET, remote_addr, want) == 1)
        fam = AF_INET;
    else if (inet_pton(AF_INET6, remote_addr, want) == 1)
        fam = AF_INET6;
    else
        return -1;
    d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    while (fd < 0 && (de = readdir(d)) != NULL) {
        char *end = NULL;
        long n = strtol(de->d_name, &end, 10);
        union sa peer, local;
        socklen_t pl = sizeof peer, ll = sizeof local;

        if (end == de->d_name || *end != '\0' || n < 0 || n > 0x7fffffff || n == dirfd(d))
            continue;
        if (getpeername((int)n, &peer.sa, &pl) != 0 || !sa_is(&peer, fam, want, remote_port) ||
            getsockname((int)n, &local.sa, &ll) != 0 ||
            (local.sa.sa_family != AF_INET && local.sa.sa_family != AF_INET6) ||
            sa_port(&local) != local_port)
            continue;
        fd = (int)n;
    }
    closedir(d);
    return fd;
}

int web_conn_shut(const char *remote_addr, int remote_port, int local_port, int plain)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                               "Content-Type: text/plain; charset=utf-8\r\n"
                               "Content-Length: 39\r\n"
                               "Retry-After: 5\r\n"
                               "Connection: close\r\n\r\n"
                               "too many connections from this address\n";
    int fd = find_socket(remote_addr, remote_port, local_port);

    if (fd < 0)
        return -1;
    if (plain)
        (void)send(fd, busy, sizeof busy - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    /* The worker's wait for headers sees the end of the stream and
     * CivetWeb closes the descriptor as for any finished connection. */
    (void)shutdown(fd, SHUT_RDWR);
    return 0;
}
