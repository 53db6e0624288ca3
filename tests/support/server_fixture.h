/* civreg tests: the group fixture of a test file whose tests share one
 * server on loopback (server.c) on a data directory in a temporary folder. */
#ifndef CIVREG_TEST_SERVER_FIXTURE_H
#define CIVREG_TEST_SERVER_FIXTURE_H

#include "support/support.h"

/* Append CONF_LINES to DATA/civreg.conf, then server_start S on DATA (no
 * more arguments, no log). Returns 0, -1 when either fails. */
int server_start_conf(struct test_server *s, const char *data, const char *conf_lines);

/* One request to the server on PORT in session S: its cookie, its CSRF
 * token and "Content-Type: application/json" sent, with the text BODY (or
 * none when NULL). Returns http_request's result (R filled on 0). */
int session_request(int port, const struct test_session *s, const char *method, const char *path,
                    const char *body, struct http_response *r);

/* A cmocka group teardown: server_teardown of the server SERVER (a static
 * struct test_server) and the temporary folder DIR (a static char *). */
#define SERVER_TEARDOWN(server, dir)                                                       \
    static int teardown(void **state)                                                      \
    {                                                                                      \
        (void)state;                                                                       \
        return server_teardown(&(server), &(dir));                                         \
    }

#endif
