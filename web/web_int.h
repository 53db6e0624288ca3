/* civreg web: internals shared by the server and its route handlers. */
#ifndef CIVREG_WEB_INT_H
#define CIVREG_WEB_INT_H

#include <civetweb.h>
#include <jansson.h>

#include "db/datadir.h"
#include "db/db.h"

/* One per server: read-only after start-up, shared by all workers. */
struct web_server {
    struct datadir *dd;
    int schema_version;
};

/* One per worker thread (CivetWeb init_thread): its own SQLite connection. */
struct web_worker {
    struct db *db; /* NULL when the database could not be opened */
};

/* A route: the URI pattern registered with CivetWeb and its handler. */
struct web_route {
    const char *pattern;
    mg_request_handler handler;
};

/* Routes, defined in routes.c; the table ends with a NULL pattern. */
extern const struct web_route web_routes[];

struct web_worker *web_worker_of(const struct mg_connection *conn);

/* Responses. Each sends the security headers every civreg answer carries.
 * They return the status code, which handlers return to CivetWeb. */
int web_send_json(struct mg_connection *conn, int status, json_t *body);
int web_send_error(struct mg_connection *conn, int status, const char *code, const char *message);

/* Handlers. */
int web_handle_healthz(struct mg_connection *conn, void *cbdata);
int web_handle_not_found(struct mg_connection *conn, void *cbdata);

#endif
