#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "expect.h"
#include "server_fixture.h"
#include "support.h"

/* The one verdict on a finished run: WHAT names it in the failure message.
 * It exited STATUS; its stderr has ERR_HAS, its stdout each of HAS and none
 * of LACKS (each check skipped when NULL). */
static void expect_result(struct proc_result *r, const char *what, int status,
                          const char *err_has, const char *const has[],
                          const char *const lacks[])
{
    if (r->status != status)
        fail_msg("%s: want exit %d, got %d: %s%s", what, status, r->status, r->err, r->out);
    if (err_has != NULL && strstr(r->err, err_has) == NULL)
        fail_msg("%s: stderr does not say '%s': %s", what, err_has, r->err);
    for (size_t i = 0; has != NULL && has[i] != NULL; i++)
        if (strstr(r->out, has[i]) == NULL)
            fail_msg("%s: no '%s' in its output:\n%s", what, has[i], r->out);
    for (size_t i = 0; lacks != NULL && lacks[i] != NULL; i++)
        if (strstr(r->out, lacks[i]) != NULL)
            fail_msg("%s: '%s' in its output:\n%s", what, lacks[i], r->out);
    proc_result_free(r);
}

void civreg_expect(const char *in, int status, const char *err_has, const char *const args[])
{
    struct proc_result r;
    char what[256];

    snprintf(what, sizeof what, "civreg %s %s", args[0] ? args[0] : "",
             args[0] && args[1] ? args[1] : "");
    assert_int_equal(civreg_run(in, &r, args), 0);
    expect_result(&r, what, status, err_has, NULL, NULL);
}

/* The shell command FMT formats, run and judged by expect_result. */
static void sh_vexpect(int status, const char *err_has, const char *const has[],
                       const char *const lacks[], const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
static void sh_vexpect(int status, const char *err_has, const char *const has[],
                       const char *const lacks[], const char *fmt, va_list ap)
{
    struct proc_result r;
    char cmd[8192];

    sh_vrun(&r, cmd, sizeof cmd, fmt, ap);
    expect_result(&r, cmd, status, err_has, has, lacks);
}

void sh_expect(int status, const char *err_has, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sh_vexpect(status, err_has, NULL, NULL, fmt, ap);
    va_end(ap);
}

void sh_expect_out(const char *const has[], const char *const lacks[], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sh_vexpect(0, NULL, has, lacks, fmt, ap);
    va_end(ap);
}

/* The one verdict on an HTTP answer R to METHOD PATH (freed here). */
static void response_expect(struct http_response *r, const char *method, const char *path,
                            int status, const char *code)
{
    char got[64];

    if (r->status != status)
        fail_msg("%s %s: want %d, got %d: %s", method, path, status, r->status, r->body);
    if (code != NULL && strcmp(http_error_code(r, got, sizeof got), code) != 0)
        fail_msg("%s %s: want error code '%s', got '%s': %s", method, path, code, got, r->body);
    http_response_free(r);
}

void http_expect(int port, const char *method, const char *path, const char *extra_headers,
                 const char *body, size_t body_len, int status, const char *code)
{
    struct http_response r;

    assert_int_equal(http_request(port, method, path, extra_headers, body, body_len, &r), 0);
    response_expect(&r, method, path, status, code);
}

void session_expect(int port, const struct test_session *s, const char *method, const char *path,
                    const char *body, int status, const char *code)
{
    struct http_response r;

    assert_int_equal(session_request(port, s, method, path, body, &r), 0);
    response_expect(&r, method, path, status, code);
}

void civreg_expect_help(const char *const cmds[][3], size_t n)
{
    struct proc_result r;

    for (size_t i = 0; i < n; i++) {
        assert_int_equal(civreg_run(NULL, &r, (const char *[]){ cmds[i][0], cmds[i][1], cmds[i][2], NULL }), 0);
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "usage: civreg"));
        proc_result_free(&r);
    }
}
