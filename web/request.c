/* civreg web: what every API handler reads from its request and how it
 * hands back a JSON body it built: path parameters, query variables, the
 * worker's database, one owned JSON answer. */
#include <string.h>

#include "web_int.h"

int web_param(const struct web_request *rq, size_t i, char *out, size_t size)
{
    if (i >= rq->nparams || rq->params[i].len >= size)
        return -1;
    /* CivetWeb has already URL-decoded local_uri. */
    memcpy(out, rq->params[i].p, rq->params[i].len);
    out[rq->params[i].len] = '\0';
    return 0;
}

int web_query(const struct web_request *rq, const char *name, char *out, size_t size)
{
    const char *q = rq->ri->query_string;
    int n;

    out[0] = '\0';
    if (q == NULL)
        return 1;
    n = mg_get_var(q, strlen(q), name, out, size);
    if (n == -1)
        return 1;
    return n < 0 ? -1 : 0;
}

int web_send_owned(struct web_request *rq, int status, json_t *body)
{
    int rc = web_send_json(rq->conn, status, body);
    json_decref(body);
    return rc;
}

int web_db_unavailable(struct web_request *rq)
{
    if (rq->w != NULL && rq->w->db != NULL)
        return 0;
    return web_send_error(rq->conn, 503, "database_unavailable", "the database cannot be read");
}

int web_send_read(struct web_request *rq, web_read_fn fn, const char *wrap)
{
    struct err err = ERR_INIT;
    json_t *out = NULL;

    WEB_NEED_DB(rq);
    if (fn(rq->w->db, &out, &err) != 0)
        return web_send_failure(rq->conn, &err);
    return web_send_owned(rq, 200, wrap != NULL ? json_pack("{s:o}", wrap, out) : out);
}
