/* civreg web: the route table and the handlers that belong to no feature. */
#include <string.h>

#include "civreg_version.h"
#include "web_int.h"

const struct web_route web_routes[] = {
    { "/healthz$", web_handle_healthz },
    /* Everything else: a JSON 404 rather than CivetWeb's HTML page. */
    { "/", web_handle_not_found },
    { NULL, NULL },
};

int web_handle_healthz(struct mg_connection *conn, void *cbdata)
{
    struct web_server *srv = cbdata;
    struct web_worker *w = web_worker_of(conn);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    json_t *body;
    int version = 0, rc;

    if (strcmp(ri->request_method, "GET") != 0 && strcmp(ri->request_method, "HEAD") != 0)
        return web_send_error(conn, 405, "method_not_allowed", "use GET");
    /* Healthy means this worker can read the database right now. */
    if (w == NULL || w->db == NULL || db_schema_version(w->db, &version, NULL) != 0)
        return web_send_error(conn, 503, "database_unavailable", "the database cannot be read");
    body = json_pack("{s:s,s:s,s:i}", "status", "ok", "version", CIVREG_VERSION, "schema_version",
                     version);
    (void)srv;
    rc = web_send_json(conn, 200, body);
    json_decref(body);
    return rc;
}

int web_handle_not_found(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    return web_send_error(conn, 404, "not_found", "no such resource");
}
