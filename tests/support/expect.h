/* civreg tests: one run of the civreg binary or of a shell command, and the
 * checks most tests make on it (exit status, a phrase in stderr or stdout). */
#ifndef CIVREG_TEST_EXPECT_H
#define CIVREG_TEST_EXPECT_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

/* Run civreg with ARGS (NULL-terminated, without argv[0]) and IN on stdin
 * (may be NULL). The test fails (cmocka) unless it exits STATUS and, when
 * ERR_HAS is not NULL, its stderr contains ERR_HAS. */
void civreg_expect(const char *in, int status, const char *err_has, const char *const args[]);

/* The same for the printf-formatted shell command (run by /bin/sh -c). */
void sh_expect(int status, const char *err_has, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Run the printf-formatted shell command; the test fails unless it exits 0,
 * its stdout contains each phrase of HAS and none of LACKS (NULL-terminated
 * lists; LACKS may be NULL). */
void sh_expect_out(const char *const has[], const char *const lacks[], const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One HTTP request to 127.0.0.1:PORT (as http_request); the test fails
 * unless it is answered with STATUS and, when CODE is not NULL, a JSON
 * body whose "error"."code" is CODE. */
void http_expect(int port, const char *method, const char *path, const char *extra_headers,
                 const char *body, size_t body_len, int status, const char *code);

/* The printf-formatted shell command FMT (AP) formatted into CMD (SIZE
 * bytes) and run as sh_run does (fixture.c). */
struct proc_result;
void sh_vrun(struct proc_result *r, char *cmd, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* The same for a request in session S (session_request, server_fixture.h). */
struct test_session;
void session_expect(int port, const struct test_session *s, const char *method, const char *path,
                    const char *body, int status, const char *code);

/* Each of the N argument lists CMDS (up to 3 words; a NULL ends one early)
 * is a request for help: civreg exits 0 and prints "usage: civreg". */
void civreg_expect_help(const char *const cmds[][3], size_t n);

/* Start civreg with ARGS (without argv[0]) in the background, its stdout
 * into the file OUT_PATH and its stderr into ERR_PATH (both truncated; may
 * be "/dev/null"); killed by SIGALRM after ALARM_S seconds unless 0. Its
 * pid, or -1 when it cannot fork (proc.c). */
pid_t civreg_spawn(const char *const args[], const char *out_path, const char *err_path,
                   unsigned alarm_s);

#endif
