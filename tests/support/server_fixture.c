#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "support/server_fixture.h"

int server_start_conf(struct test_server *s, const char *data, const char *conf_lines)
{
    if (conf_append(data, conf_lines) != 0)
        return -1;
    return server_start(s, data, NULL, NULL);
}

int session_request(int port, const struct test_session *s, const char *method, const char *path,
                    const char *body, struct http_response *r)
{
    char hdr[512];

    snprintf(hdr, sizeof hdr, "%sX-CSRF-Token: %s\r\nContent-Type: application/json\r\n",
             s->cookie, s->csrf);
    return http_request(port, method, path, hdr, body, body ? strlen(body) : 0, r);
}
