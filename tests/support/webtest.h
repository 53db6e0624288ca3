/* civreg tests: what the web integration tests share on top of server.c:
 * every demo user signed in, and a route's path pattern made concrete.
 * Compiled into the tests that link civreg_web (web_demo_users). */
#ifndef CIVREG_TEST_WEBTEST_H
#define CIVREG_TEST_WEBTEST_H

#include <stddef.h>

#include "support/support.h"

/* One demo user signed in: who, the roles it holds, its session. */
struct demo_login {
    const char *user;
    unsigned roles;
    struct test_session s;
};

/* Sign each of web_demo_users in on PORT with WEB_DEMO_PASSWORD, in order,
 * into LOGINS (CAP entries); their count into *N. Returns 0, -1 when one
 * is refused or there are more than CAP. */
int demo_sign_in_all(int port, struct demo_login *logins, size_t cap, size_t *n);

/* The value of the route parameter PARAM ("{id}", up to its '}') of the
 * path pattern PAT. */
typedef const char *route_param_fn(const char *pat, const char *param, void *ctx);

/* The route path pattern PAT made concrete into OUT (SIZE bytes): each
 * {param} replaced by VALUE(PAT, param, CTX), the '*' of the static assets
 * by js/app.js. */
void route_path(const char *pat, char *out, size_t size, route_param_fn *value, void *ctx);

/* POST the JSON text BODY to PATH on PORT in session S (its cookie and CSRF
 * token sent). On 201 the "id" of the answer goes into ID (SIZE bytes).
 * Returns the status, -1 when there was no answer. */
int web_create(int port, const struct test_session *s, const char *path, const char *body,
               char *id, size_t size);

#endif
