/* civreg command line: helpers for the commands that act as a signed-in
 * user (user, record, person, evidence, audit). */
#ifndef CIVREG_CLI_REGISTRY_H
#define CIVREG_CLI_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct datadir;
struct db;
struct registry_actor;

struct cli_session {
    struct datadir *dd;
    struct db *db;
    struct registry_actor *actor; /* NULL when no --user was given */
};

/* Open the data directory DATA (NULL = default) and, when USER is given,
 * sign in as USER with the password from PASSWORD_FILE, the terminal, or the
 * first line of stdin. NEED_USER makes --user mandatory. Prints the failure
 * and returns an exit code (EXIT_OK on success). */
int cli_session_open(const char *command, const char *data, const char *user,
                     const char *password_file, bool need_user, struct cli_session *s);
void cli_session_close(struct cli_session *s);
/* cli_session_open with the session options of C, --user mandatory. */
struct cli_common_opts;
int cli_sign_in(const char *command, const struct cli_common_opts *c, struct cli_session *s);

/* A password: the first line of FILE when given, else a prompt on the
 * terminal (echo off) when stdin is one, else the next line of stdin.
 * *OUT is malloc'd; wipe and free it with cli_password_free. */
int cli_password(const char *prompt, const char *file, char **out, struct err *err);
void cli_password_free(char *p);

/* A new password: like cli_password without a file, but on a terminal it is
 * asked twice and must match. */
int cli_new_password(const char *prompt, char **out, struct err *err);

/* The rest of stdin after any lines taken as passwords (at most 16 MiB),
 * NUL-terminated; owned by the helper, valid until exit. */
int cli_stdin_rest(const char **p, size_t *len, struct err *err);

/* Parse the rest of stdin as one JSON value. */
int cli_stdin_json(json_t **out, struct err *err);

/* Print V as indented JSON followed by a newline on stdout. */
int cli_print_json(const json_t *v);

/* The end of a command body: when RC is 0, print OUT as JSON (nothing when
 * OUT is NULL); else print ERR as "civreg COMMAND: ...". Drops the caller's
 * reference to OUT. Returns the exit code: EXIT_OK, or EXIT_FAIL for a
 * failure of any kind (or JSON that cannot be printed). */
int cli_result(const char *command, int rc, json_t *out, const struct err *err);

/* The body of a command run as a signed-in user: FN acts through S with
 * the command's parsed OPTS and sets *OUT to the JSON to print (or leaves
 * it NULL after printing its own line). Returns 0, or -1 with ERR set. */
typedef int (*cli_signed_fn)(struct cli_session *s, const void *opts, json_t **out,
                             struct err *err);
/* Sign in with C's session options (--user mandatory), run FN, print its
 * JSON or its failure ("civreg COMMAND: ..."), close the session. Returns
 * the exit code. */
int cli_run_signed(const char *command, const struct cli_common_opts *c, cli_signed_fn fn,
                   const void *opts);
/* cli_run_signed for a command where --user is optional (NEED_USER false:
 * FN sees S's actor NULL without it) or not taken at all. */
int cli_run_session(const char *command, const struct cli_common_opts *c, bool need_user,
                    cli_signed_fn fn, const void *opts);

/* A command that shows one object as a signed-in user: options --data,
 * --user (mandatory), --password-file and --help (printing HELP's usage),
 * exactly one argument (WHAT names it in the usage error), then SHOW's JSON
 * on stdout. Returns the exit code. */
struct cli_command;
typedef int (*cli_show_fn)(struct db *db, const struct registry_actor *actor, const char *arg,
                           json_t **out, struct err *err);
int cli_show_one(const char *command, const struct cli_command *help, const char *what,
                 cli_show_fn show, int argc, char **argv);

#endif
