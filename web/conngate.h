/* civreg web: the connection gate, a cap on the connections one client
 * address holds open at once.
 *
 * CivetWeb (up to 1.15 at least) gives each connection a worker thread for
 * its whole life: while it waits for the request headers, while it idles
 * between keep-alive requests. A handful of silent sockets would otherwise
 * hold every worker, and /healthz with them. CivetWeb has no per-address
 * limit, so civreg counts connections in its init_connection and
 * connection_close callbacks (web/server.c) and closes one over the cap at
 * once, before CivetWeb waits for its headers. Mutex-protected; the table
 * has a fixed number of slots (every counted connection holds a worker, so
 * the worker count is enough). */
#ifndef CIVREG_WEB_CONNGATE_H
#define CIVREG_WEB_CONNGATE_H

#include <stddef.h>

#include "client_addr.h"
#include "core/err.h"

struct mg_connection;
struct web_conngate;

/* A gate letting each address hold PER_ADDR connections, for up to SLOTS
 * connections at once (more are let in uncounted); peers in TRUSTED (the
 * reverse proxies, which carry everyone's requests) are not counted. */
int web_conngate_new(unsigned per_addr, size_t slots, const struct web_addrset *trusted,
                     struct web_conngate **out, struct err *err)
    __attribute__((warn_unused_result));
/* Stops the gate's thread if running, then frees. NULL is a no-op. */
void web_conngate_free(struct web_conngate *g);

/* Start and stop the thread that looks at new connections. CivetWeb's
 * init_connection runs before the connection's address can be read
 * (mg_get_request_info answers NULL there), and on the worker that is then
 * about to wait for the headers, so the gate's own thread takes the
 * connection's address as soon as CivetWeb has set it, counts it and, over
 * the cap, closes the socket (web_conn_shut). Stop before mg_stop. */
int web_conngate_start(struct web_conngate *g, struct err *err) __attribute__((warn_unused_result));
void web_conngate_stop(struct web_conngate *g);

/* CivetWeb's init_connection and connection_close callbacks. */
void web_conngate_open(struct web_conngate *g, const struct mg_connection *conn);
void web_conngate_close(struct web_conngate *g, const struct mg_connection *conn);

/* The counting itself. A new connection from ADDR: a token for
 * web_conngate_leave, or NULL when ADDR already holds PER_ADDR connections
 * (then nothing is counted). */
void *web_conngate_enter(struct web_conngate *g, const char *addr)
    __attribute__((warn_unused_result));
/* The connection that got TOKEN has closed. */
void web_conngate_leave(struct web_conngate *g, void *token);

/* How many connections were refused since the last call (for the log). */
unsigned long web_conngate_refused(struct web_conngate *g);

/* Close the TCP connection from REMOTE_ADDR:REMOTE_PORT to local port
 * LOCAL_PORT now: a short "503, too many connections" first when PLAIN
 * (not TLS), then both directions shut, so the worker holding it returns
 * at once. Returns 0, -1 when no such socket is found in this process. */
int web_conn_shut(const char *remote_addr, int remote_port, int local_port, int plain);

#endif
