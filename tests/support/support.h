/* civreg tests: helpers to drive the real civreg binary and server. */
#ifndef CIVREG_TEST_SUPPORT_H
#define CIVREG_TEST_SUPPORT_H

#include <stddef.h>
#include <sys/types.h>

/* Result of running a process to completion. */
struct proc_result {
    int status;   /* exit code, or 128+signal when killed */
    char *out;    /* stdout, NUL-terminated (malloc'd) */
    size_t out_len;
    char *err;    /* stderr, NUL-terminated (malloc'd) */
    size_t err_len;
};

/* Run ARGV (argv[0] is a path) with IN (may be NULL) on stdin; wait at most
 * TIMEOUT_S seconds (then SIGKILL). Returns 0 when it ran. */
int proc_run(char *const argv[], const char *in, size_t in_len, int timeout_s,
             struct proc_result *r);
void proc_result_free(struct proc_result *r);

/* Start ARGV in the background with stdout to a pipe. *OUT_FD reads it. */
int proc_spawn(char *const argv[], pid_t *pid, int *out_fd);

/* Read one line from FD (blocking, at most TIMEOUT_S seconds) into LINE. */
int proc_read_line(int fd, char *line, size_t size, int timeout_s);

/* Wait for PID at most TIMEOUT_S seconds. Returns the exit status as in
 * proc_result, or -1 on timeout (the process is then killed). */
int proc_wait(pid_t pid, int timeout_s);

/* Convenience: run the civreg binary under test with ARGS (NULL-terminated
 * array of strings, without argv[0]). */
int civreg_run(const char *in, struct proc_result *r, const char *const args[]);

/* Run civreg with ARGS and IN on stdin; the test fails (cmocka) unless it
 * exits 0. Returns its stdout (caller frees). */
char *civreg_run_ok(const char *in, const char *const args[]);

/* Cut trailing newlines (\n, \r) off S in place. */
void text_chomp(char *s);

/* One HTTP/1.1 request to 127.0.0.1:PORT; BODY may be NULL. The response is
 * split into status, headers and body (all malloc'd). EXTRA_HEADERS is
 * "Name: value\r\n" lines or NULL. */
struct http_response {
    int status;
    char *headers;
    char *body;
    size_t body_len;
};
int http_request(int port, const char *method, const char *path, const char *extra_headers,
                 const char *body, size_t body_len, struct http_response *r);
void http_response_free(struct http_response *r);
/* A header's value (case-insensitive name) copied into OUT, or -1. */
int http_header(const struct http_response *r, const char *name, char *out, size_t size);

/* A fresh empty temporary folder (malloc'd path) and its recursive removal. */
char *tmp_dir(const char *tag);
void tmp_remove(const char *path);

/* Read a whole file (malloc'd, NUL-terminated); NULL on error. */
char *file_read(const char *path, size_t *len);
/* Write a whole file. Returns 0. */
int file_write(const char *path, const void *p, size_t len);

#endif
