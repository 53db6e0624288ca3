/* civreg web: response helpers. */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "web_int.h"

/* Every response: no sniffing, no framing, no referrer leaks, no caching of
 * personal data by shared proxies. */
static void add_security_headers(struct mg_connection *conn)
{
    mg_response_header_add(conn, "X-Content-Type-Options", "nosniff", -1);
    mg_response_header_add(conn, "X-Frame-Options", "DENY", -1);
    mg_response_header_add(conn, "Content-Security-Policy",
                           "default-src 'none'; frame-ancestors 'none'", -1);
    mg_response_header_add(conn, "Referrer-Policy", "no-referrer", -1);
    mg_response_header_add(conn, "Cache-Control", "no-store", -1);
}

int web_send_json(struct mg_connection *conn, int status, json_t *body)
{
    struct buf out = BUF_INIT(64 * 1024 * 1024);
    char len[32];

    if (json_dump_compact(body, &out, NULL) != 0 || buf_append_byte(&out, '\n') != 0) {
        buf_release(&out);
        status = 500;
        if (buf_append_str(&out, "{\"error\":{\"code\":\"internal\",\"message\":\"response too "
                                 "large\"}}\n") != 0)
            return 500;
    }
    (void)snprintf(len, sizeof len, "%zu", out.len);
    mg_response_header_start(conn, status);
    mg_response_header_add(conn, "Content-Type", "application/json; charset=utf-8", -1);
    mg_response_header_add(conn, "Content-Length", len, -1);
    add_security_headers(conn);
    mg_response_header_send(conn);
    if (strcmp(mg_get_request_info(conn)->request_method, "HEAD") != 0)
        mg_write(conn, out.data, out.len);
    buf_release(&out);
    return status;
}

int web_send_error(struct mg_connection *conn, int status, const char *code, const char *message)
{
    json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
    int rc;

    if (body == NULL)
        return web_send_json(conn, 500, json_null());
    rc = web_send_json(conn, status, body);
    json_decref(body);
    return rc;
}
