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

/* The monotonic clock in seconds, to time what a test runs. */
double now_s(void);

/* SIGKILL to *PID and to its process group (children it started in one),
 * then *PID reaped and set to -1; nothing when *PID is not above 0. */
void child_kill(pid_t *pid);

/* Close *FD when open and set it to -1. */
void fd_close(int *fd);

/* Convenience: run the civreg binary under test with ARGS (NULL-terminated
 * array of strings, without argv[0]). */
int civreg_run(const char *in, struct proc_result *r, const char *const args[]);

/* civreg_run of ARGS followed by `--data DATA --user USER --password-file
 * DIR/USER.pw` (the password file pw_file writes). */
int civreg_run_as(const char *data, const char *dir, const char *user, const char *in,
                  struct proc_result *r, const char *const args[]);

/* civreg_run_as; the test fails unless it exits 0. Returns its stdout
 * (caller frees). */
char *civreg_run_as_ok(const char *data, const char *dir, const char *user, const char *in,
                       const char *const args[]);

/* Run civreg with ARGS and IN on stdin; the test fails (cmocka) unless it
 * exits 0. Returns its stdout (caller frees). */
char *civreg_run_ok(const char *in, const char *const args[]);
/* Run civreg with ARGS and IN on stdin; the test fails (cmocka) if it exits
 * 0. Returns its stderr (caller frees). */
char *civreg_run_fail(const char *in, const char *const args[]);

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
/* A TCP connection to 127.0.0.1:PORT from source address SRC (any 127/8
 * address is this machine), reads and writes timing out after TIMEOUT_S
 * seconds. The socket, or -1. */
int tcp_connect_from(const char *src, int port, int timeout_s);
/* A TCP socket bound to a free port of 127.0.0.1 (*PORT), listening with
 * BACKLOG when >= 0 (a stand-in server; -1: bound only, so a connection to
 * it is refused). Close-on-exec: the servers a test starts do not inherit
 * it. The socket, or -1. */
int tcp_listen_loopback(int backlog, int *port);
/* A header's value (case-insensitive name) copied into OUT, or -1. */
int http_header(const struct http_response *r, const char *name, char *out, size_t size);

/* A fresh empty temporary folder (malloc'd path) and its recursive removal. */
char *tmp_dir(const char *tag);
void tmp_remove(const char *path);

/* A path inside a test's temporary folder: BUF (SIZE bytes) receives
 * "<folder>/NAME". */
struct tmp_path {
    char *buf;
    size_t size;
    const char *name;
};
#define TMP_PATH(buf, name) { (buf), sizeof(buf), (name) }

/* tmp_dir, then each of PATHS (ended by an entry with a NULL buf) filled
 * with its path inside the new folder. NULL when the folder cannot be made
 * or a path does not fit. */
char *tmp_dir_paths(const char *tag, const struct tmp_path *paths);

/* tests/data/DIR/NAME read whole (malloc'd, NUL-terminated; its length into
 * *LEN when LEN is not NULL). The test fails when it cannot be read. */
char *test_data_read(const char *dir, const char *name, size_t *len);
/* Read a whole file (malloc'd, NUL-terminated); NULL on error. */
char *file_read(const char *path, size_t *len);
/* Write a whole file. Returns 0. */
int file_write(const char *path, const void *p, size_t len);

/* ---- fixtures shared by the integration tests (fixture.c) ---- */

/* Run civreg with ARGS and IN on stdin, discarding its output; the test fails
 * (cmocka) unless it exits 0. */
void civreg_ok(const char *in, const char *const args[]);

/* Run the printf-formatted shell command; the test fails unless it exits 0. */
void sh_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run it and keep what it did in R (caller frees); the test fails only when
 * it cannot be run. */
void sh_run(struct proc_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Constant SQL on DATA's database (DATA/civreg.db, datadb.c): data_sql runs
 * it, data_sql_long returns the first column of its first row. The test
 * fails on any error or when there is no row. */
void data_sql(const char *data, const char *sql);
long data_sql_long(const char *data, const char *sql);
/* The first column of the first row of SQL on an open SQLite HANDLE (a
 * sqlite3 *, e.g. db_handle(db)); the test fails on any error or no row. */
long long sqlite_long(void *handle, const char *sql);
/* SQL prepared on an open SQLite HANDLE (a sqlite3 *): the statement, which
 * the caller binds, steps and finalizes; the test fails when it cannot be
 * prepared. sqlite_row also steps it to its first row (the test fails when
 * there is none) for the caller to read with sqlite3_column_*. */
struct sqlite3_stmt;
struct sqlite3_stmt *sqlite_prepare_ok(void *handle, const char *sql);
struct sqlite3_stmt *sqlite_row(void *handle, const char *sql);

/* Start civreg with ARGS (without argv[0]) in the background, its output
 * discarded. Returns its pid (the test fails when it cannot fork). */
pid_t civreg_start_quiet(const char *const args[]);

/* A fresh temporary folder for TAG (malloc'd path, NULL on error) with a data
 * directory initialised in FOLDER/data by `civreg init` and INIT_EXTRA (more
 * arguments, NULL-terminated, or NULL); its path goes into DATA. */
char *tmp_data_dir(const char *tag, char *data, size_t size, const char *const init_extra[]);
/* Append LINES to DATA/civreg.conf. Returns 0. */
int conf_append(const char *data, const char *lines);
/* tmp_remove and free *DIR; *DIR becomes NULL. */
void tmp_free(char **dir);

/* A cmocka group teardown removing the temporary folder VAR (a static char *). */
#define TMP_DIR_TEARDOWN(var)                                                              \
    static int teardown(void **state)                                                      \
    {                                                                                      \
        (void)state;                                                                       \
        tmp_free(&(var));                                                                  \
        return 0;                                                                          \
    }

/* DIR/NAME in one of 8 rotating static buffers (valid for 8 more calls). */
const char *tmp_path(const char *dir, const char *name);

/* The cmocka group fixture `setup` and `teardown` of a test file whose tests
 * share one temporary folder VAR (a static char *) tagged TAG. */
#define TMP_DIR_FIXTURE(var, tag)                                                          \
    static int setup(void **state)                                                         \
    {                                                                                      \
        (void)state;                                                                       \
        return ((var) = tmp_dir(tag)) != NULL ? 0 : -1;                                    \
    }                                                                                      \
    TMP_DIR_TEARDOWN(var)

/* Write PASSWORD and a newline into DIR/NAME.pw and its path into OUT.
 * Returns 0, -1 when it cannot be written. */
int pw_file(const char *dir, const char *name, const char *password, char *out, size_t size);

/* `civreg user add` of USERNAME holding ROLES ("clerk,registrar") whose
 * password is PASSWORD, in DATA, by the admin whose password file is
 * ADMIN_PW_FILE (NULL for the first admin, which needs nobody). The test
 * fails unless it is added. */
void civreg_user_add(const char *data, const char *username, const char *roles,
                     const char *password, const char *admin_pw_file);

/* `civreg record draft --example` with its evidence list holding HASH, into
 * OUT (SIZE bytes); the test fails when it cannot be made. */
void civreg_example_record(const char *evidence_hash, char *out, size_t size);

/* The staff most registry tests use, added in DATA, each with a password file
 * DIR/NAME.pw whose path goes into the matching buffer (4096 bytes or more;
 * a NULL buffer: that user is not added): "admin" (admin), "clerk1"
 * (CLERK_ROLES), "clerk2" (clerk), "reg" (REG_ROLES). Their passwords are
 * STAFF_PW_ADMIN, STAFF_PW_CLERK1, STAFF_PW_CLERK2 and STAFF_PW_REG. */
#define STAFF_PW_ADMIN "nimda-tundra-ferns-61"
#define STAFF_PW_CLERK1 "1krelc-tundra-ferns-61"
#define STAFF_PW_CLERK2 "2krelc-tundra-ferns-61"
#define STAFF_PW_REG "rartsiger-tundra-ferns-61"
void civreg_staff_add(const char *data, const char *dir, const char *clerk_roles,
                      const char *reg_roles, char *pw_admin, char *pw_c1, char *pw_c2,
                      char *pw_reg);

/* ---- the server on loopback (server.c) ---- */
struct test_server {
    pid_t pid;
    int out_fd;
    int port;
};

/* Start `civreg serve --data DATA --listen 127.0.0.1:0` with EXTRA (more
 * arguments, NULL-terminated, or NULL), its stderr into LOG when given, and
 * wait for its "listening on http://127.0.0.1:PORT/" line. Returns 0. */
int server_start(struct test_server *s, const char *data, const char *const extra[],
                 const char *log);
/* A fresh temporary folder for TAG (*DIR) and `civreg serve --demo` on its
 * data directory (path into DATA), which makes the demo office first.
 * Returns 0. */
int server_start_demo(struct test_server *s, const char *tag, char **dir, char *data,
                      size_t size);
/* Send SIG, wait (at most 30 s) and close: the exit status as proc_wait. */
int server_end(struct test_server *s, int sig);
/* server_end with SIGTERM. A never-started S is a no-op. */
void server_stop(struct test_server *s);
/* A group teardown: server_stop, then tmp_free of *DIR. Returns 0. */
int server_teardown(struct test_server *s, char **dir);

/* A signed-in web session. */
struct test_session {
    char user[64];        /* who signed in */
    char cookie[160];     /* "Cookie: civreg_session=TOKEN\r\n" */
    char csrf[80];        /* its CSRF token */
    char set_cookie[256]; /* the whole Set-Cookie header the server sent */
};

/* POST /api/v1/session on PORT as USER with PASSWORD, EXTRA_HEADERS
 * ("Name: value\r\n" lines) or NULL sent along. Fills S on 200 when S is
 * not NULL. Returns the status, -1 when there was no answer. */
int web_sign_in(int port, const char *user, const char *password, const char *extra_headers,
                struct test_session *s);
/* The body of R as JSON (NULL when it is not JSON). */
struct json_t;
struct json_t *http_body_json(const struct http_response *r);
/* The string member K of a command's JSON answer OUT into DST (the test
 * fails when there is none); OUT is freed. */
void json_member_take(char *out, const char *k, char *dst, size_t size);
/* The "error"."code" of R's JSON body into OUT ("" when there is none).
 * Returns OUT. */
const char *http_error_code(const struct http_response *r, char *out, size_t size);

#endif
