#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "support/server_fixture.h"
#include "support/webtest.h"
#include "web/web.h"

int demo_sign_in_all(int port, struct demo_login *logins, size_t cap, size_t *n)
{
    *n = 0;
    for (const struct web_demo_user *u = web_demo_users; u->username != NULL; u++) {
        if (*n == cap)
            return -1;
        logins[*n].user = u->username;
        logins[*n].roles = u->roles;
        if (web_sign_in(port, u->username, WEB_DEMO_PASSWORD, NULL, &logins[*n].s) != 200)
            return -1;
        (*n)++;
    }
    return 0;
}

void route_path(const char *pat, char *out, size_t size, route_param_fn *value, void *ctx)
{
    size_t o = 0;

    for (const char *p = pat; *p && o + 80 < size; p++) {
        if (*p == '{') {
            o += (size_t)snprintf(out + o, size - o, "%s", value(pat, p, ctx));
            p = strchr(p, '}');
        } else if (*p == '*') {
            o += (size_t)snprintf(out + o, size - o, "js/app.js");
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

int web_create(int port, const struct test_session *s, const char *path, const char *body,
               char *id, size_t size)
{
    struct http_response r;
    int st;

    if (session_request(port, s, "POST", path, body, &r) != 0)
        return -1;
    st = r.status;
    if (st == 201) {
        json_t *j = http_body_json(&r);
        snprintf(id, size, "%s", json_string_value(json_object_get(j, "id")));
        json_decref(j);
    }
    http_response_free(&r);
    return st;
}
