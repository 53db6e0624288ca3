#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "support.h"

int server_start(struct test_server *s, const char *data, const char *const extra[],
                 const char *log)
{
    const char *argv[40] = { CIVREG_BIN, "serve", "--data", data, "--listen", "127.0.0.1:0" };
    const char *at;
    size_t n = 6;
    char line[512];
    int err_fd = -1, saved = -1, rc;

    memset(s, 0, sizeof *s);
    s->pid = -1;
    s->out_fd = -1;
    for (size_t i = 0; extra && extra[i] && n < 39; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    /* the child inherits stderr: point ours at LOG around the fork */
    if (log != NULL) {
        err_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        saved = dup(2);
        if (err_fd < 0 || saved < 0 || dup2(err_fd, 2) < 0)
            return -1;
    }
    rc = proc_spawn((char *const *)argv, &s->pid, &s->out_fd);
    if (log != NULL) {
        dup2(saved, 2);
        close(saved);
        close(err_fd);
    }
    if (rc != 0 || proc_read_line(s->out_fd, line, sizeof line, 120) != 0 ||
        (at = strstr(line, "://127.0.0.1:")) == NULL)
        return -1;
    s->port = (int)strtol(at + strlen("://127.0.0.1:"), NULL, 10);
    return s->port > 0 ? 0 : -1;
}

int server_end(struct test_server *s, int sig)
{
    int st = -1;

    if (s->pid > 0 && kill(s->pid, sig) == 0)
        st = proc_wait(s->pid, 30);
    if (s->out_fd > 0)
        close(s->out_fd);
    s->pid = -1;
    s->out_fd = -1;
    return st;
}

void server_stop(struct test_server *s)
{
    (void)server_end(s, SIGTERM);
}

json_t *http_body_json(const struct http_response *r)
{
    json_error_t je;
    return json_loadb(r->body, r->body_len, 0, &je);
}

void json_member_take(char *out, const char *k, char *dst, size_t size)
{
    json_t *v = json_loads(out, 0, NULL);
    if (!json_is_string(json_object_get(v, k)))
        fail_msg("no \"%s\" in %s", k, out);
    snprintf(dst, size, "%s", json_string_value(json_object_get(v, k)));
    json_decref(v);
    free(out);
}

const char *http_error_code(const struct http_response *r, char *out, size_t size)
{
    json_t *j = http_body_json(r);
    const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    snprintf(out, size, "%s", c ? c : "");
    json_decref(j);
    return out;
}

int web_sign_in(int port, const char *user, const char *password, const char *extra_headers,
                struct test_session *s)
{
    struct http_response r;
    char headers[1024];
    json_t *req = json_pack("{s:s,s:s}", "username", user, "password", password), *j;
    char *body = json_dumps(req, JSON_COMPACT);
    int st = -1;

    snprintf(headers, sizeof headers, "Content-Type: application/json\r\n%s",
             extra_headers ? extra_headers : "");
    if (body != NULL &&
        http_request(port, "POST", "/api/v1/session", headers, body, strlen(body), &r) == 0) {
        st = r.status;
        if (st == 200 && s != NULL) {
            memset(s, 0, sizeof *s);
            snprintf(s->user, sizeof s->user, "%s", user);
            if (http_header(&r, "Set-Cookie", s->set_cookie, sizeof s->set_cookie) != 0)
                fail_msg("sign-in as %s: no Set-Cookie", user);
            /* civreg_session=TOKEN; Path=/; HttpOnly; SameSite=Strict */
            snprintf(s->cookie, sizeof s->cookie, "Cookie: %.*s\r\n",
                     (int)strcspn(s->set_cookie, ";"), s->set_cookie);
            j = http_body_json(&r);
            snprintf(s->csrf, sizeof s->csrf, "%s",
                     json_string_value(json_object_get(j, "csrf_token")));
            json_decref(j);
        }
        http_response_free(&r);
    }
    free(body);
    json_decref(req);
    return st;
}

int server_teardown(struct test_server *s, char **dir)
{
    server_stop(s);
    tmp_free(dir);
    return 0;
}

int server_start_demo(struct test_server *s, const char *tag, char **dir, char *data,
                      size_t size)
{
    if ((*dir = tmp_dir(tag)) == NULL ||
        snprintf(data, size, "%s/data", *dir) >= (int)size)
        return -1;
    return server_start(s, data, (const char *[]){ "--demo", NULL }, NULL);
}
