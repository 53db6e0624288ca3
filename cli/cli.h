/* civreg command line: shared helpers for the subcommands.
 *
 * Each subcommand is a thin shell: parse arguments, call one module
 * function, print the result. Exit codes: 0 success, 1 failure, 2 usage.
 */
#ifndef CIVREG_CLI_H
#define CIVREG_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* A command's entry point: 0 on success, else the process's exit code. */
typedef int cli_run_fn(int argc, char **argv);

struct cli_command {
    const char *name;
    cli_run_fn *run;
    const char *summary;
    const char *usage; /* full help text, printed by `civreg help NAME` and --help */
};

/* The command table (main.c), ending with a NULL name. */
extern const struct cli_command cli_commands[];

/* Find a command by name, or NULL. */
const struct cli_command *cli_find(const struct cli_command *table, const char *name);

/* Print a command's usage to stdout (for --help) and return EXIT_OK. */
int cli_help(const struct cli_command *cmd);

/* Report a usage error on stderr with a hint and return EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Report a failure on stderr ("civreg COMMAND: message") and return EXIT_FAIL. */
int cli_fail(const char *command, const struct err *err);
/* Print a chip report (passive authentication, a chip read) as JSON on
 * stdout and each failed check on stderr as "civreg COMMAND: CHECK: MESSAGE";
 * EXIT_OK when VALID, else EXIT_FAIL. */
int cli_chip_report(const char *command, const json_t *report, bool valid);

/* The --data value, or the default ./civreg-data. */
const char *cli_data_dir(const char *opt);

/* Subcommand families (db, ...) dispatch on their own table. */
int cli_dispatch(const char *family, const struct cli_command *table, int argc, char **argv);

/* Subcommands that share one body and differ only by data: the body's
 * argv[0] is the subcommand's name (cli_dispatch), and its row in TABLE
 * (N rows of SIZE bytes, each beginning with its name as a const char *,
 * or simply an array of names) picks the body's data. Returns the row's
 * index, or -1. */
int cli_sub_index(const void *table, size_t n, size_t size, const char *sub);
#define CLI_SUB_INDEX(table, sub) \
    cli_sub_index((table), sizeof(table) / sizeof((table)[0]), sizeof((table)[0]), (sub))

/* Append the rest of stream F (named NAME in the errors: "NAME: more than
 * N bytes", "NAME: read error") to OUT, within OUT's cap. */
int cli_read_stream(FILE *f, const char *name, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));

/* Read a whole file into OUT (its cap set to MAX). */
int cli_read_file(const char *path, size_t max, struct buf *out, struct err *err)
    __attribute__((warn_unused_result));

/* Write LEN bytes to PATH through PATH.tmp and a rename (a reader never
 * sees half a file). A PATH that exists and is not a regular file (a
 * device such as /dev/null, a FIFO) is written into, never replaced. */
int cli_write_file(const char *path, const void *p, size_t len, struct err *err)
    __attribute__((warn_unused_result));

/* Parse a decimal integer in [LO, HI] (digits with an optional leading
 * minus, nothing else). The one integer parser of the command line.
 * Returns 0 or -1. */
int cli_parse_int(const char *s, long lo, long hi, long *out) __attribute__((warn_unused_result));

/* ---- options declared once (options.c) ---- */

/* The session options every command on a data directory takes; the option
 * struct of such a command begins with this. */
struct cli_common_opts {
    const char *data, *user, *password_file;
    long timeout; /* --timeout S, commands asking the national tier (0: not given) */
    char **args; /* the positional arguments (cli_parse) */
    int nargs;
};

#define CLI_LIST_MAX 64
/* A repeatable option (--evidence H --evidence H2). */
struct cli_list {
    const char *v[CLI_LIST_MAX];
    size_t n;
};

enum cli_opt_kind { CLI_FLAG, CLI_STRING, CLI_INT, CLI_LIST };

/* One option of a command: --NAME, its kind, where its value goes in the
 * command's option struct (bool, const char *, long or struct cli_list),
 * bounds for CLI_INT, and the space-separated subcommands that take it
 * (NULL: every one; FAMILY.SUB: that family's SUB alone, where families
 * share a table). A table ends with a NULL name. */
struct cli_opt {
    const char *name;
    enum cli_opt_kind kind;
    size_t offset;
    long lo, hi;
    const char *subcommands;
    const char *arg; /* the value's name in the help ("FILE"); NULL: N or VALUE */
};

/* Shorthands for a table row: the option, where it goes in struct TYPE, and
 * the subcommands that take it (NULL: every one). */
#define CLI_OPT_FLAG(name, type, field, subs) { name, CLI_FLAG, offsetof(type, field), 0, 0, subs, NULL }
#define CLI_OPT_STR(name, type, field, subs, arg) { name, CLI_STRING, offsetof(type, field), 0, 0, subs, arg }
#define CLI_OPT_INT(name, type, field, lo, hi, subs) { name, CLI_INT, offsetof(type, field), lo, hi, subs, NULL }
#define CLI_OPT_LIST(name, type, field, subs, arg) { name, CLI_LIST, offsetof(type, field), 0, 0, subs, arg }
#define CLI_OPT_END { NULL, 0, 0, 0, 0, NULL, NULL }

/* A command family (record, user, ...), or a single command when COMMANDS
 * is NULL: its options once, and which subcommands take the session options
 * ("*": every one; NULL: none). */
struct cli_family {
    const char *name;
    const struct cli_command *commands;
    const struct cli_opt *options;
    const char *data_for; /* --data DIR */
    const char *user_for; /* --user U and --password-file F */
};

/* The largest --timeout S (seconds). */
#define CLI_TIMEOUT_MAX 3600

/* CLI_GO: parsing succeeded, run the command. */
enum { CLI_GO = -1 };

/* Parse ARGV (argv[0] is SUB; NULL for a single command) of family F into
 * OPTS (zeroed by the caller), whose struct begins with struct cli_common_opts: F's
 * options that SUB takes, the session options F gives SUB, and between
 * MIN_ARGS and MAX_ARGS (-1: any number) positional arguments, named WHAT
 * in the usage error, into OPTS's args and nargs. Returns CLI_GO, or the
 * exit code: EXIT_OK after --help (the help, with the options generated
 * from the table), EXIT_USAGE after a usage error (an option SUB does not
 * take is refused by name). */
int cli_parse(const struct cli_family *f, const char *sub, void *opts, int argc, char **argv,
              int min_args, int max_args, const char *what);

/* Print the help of F's subcommand SUB (NULL: the single command): its
 * usage text, then its options from the table. Returns EXIT_OK. */
int cli_family_help(const struct cli_family *f, const char *sub);

/* Dispatch `civreg F SUB ...` on F's subcommands (as cli_dispatch, with
 * `help SUB` printing the generated options too). */
int cli_family_dispatch(const struct cli_family *f, int argc, char **argv);

/* ---- the access action of each command (actions.c) ---- */

/* A command as typed ("record show", "search --reindex") and the access
 * action (registry/access.c) it checks once the user has signed in; NULL
 * for a command that takes no signed-in user. The table ends with a NULL
 * command. */
struct cli_action {
    const char *command;
    const char *action;
};
extern const struct cli_action cli_actions[];

/* The row of COMMAND, or NULL when the table has none. */
const struct cli_action *cli_action_find(const char *command);

enum { CLI_OPTS_OK = 0, CLI_OPTS_HELP = 1, CLI_OPTS_USAGE = 2 };

/* Parse ARGV (argv[0] is SUB) for `civreg FAMILY SUB` into OPTS, which the
 * caller zeroed: TABLE's options, plus the session options into the struct
 * cli_common_opts at the start of OPTS when SESSION. An option of TABLE
 * that SUB does not take, an unknown option, a missing value or an integer
 * out of bounds is reported (cli_usage_error) and gives CLI_OPTS_USAGE;
 * --help gives CLI_OPTS_HELP. *FIRST_ARG is the index of the first
 * positional argument. */
int cli_options_parse(const char *family, const char *sub, const struct cli_opt *table,
                      bool session, void *opts, int argc, char **argv, int *first_arg);

/* Commands. */
int cmd_init(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_mrz(int argc, char **argv);
int cmd_document(int argc, char **argv);
int cmd_application(int argc, char **argv);
int cmd_booklet(int argc, char **argv);
int cmd_pki(int argc, char **argv);
int cmd_chip(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_person(int argc, char **argv);
int cmd_evidence(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_death(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_seal(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_duplicates(int argc, char **argv);
int cmd_national(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_access(int argc, char **argv);

/* civreg chip read | emulate (cmd_chip_reader.c) */
int chip_read_cmd(int argc, char **argv);
int chip_emulate_cmd(int argc, char **argv);
extern const char chip_read_usage[];
extern const char chip_emulate_usage[];
/* Quality control reads the chip package of application ID back through
 * the reader path against the virtual chip (BAC, passive and active
 * authentication with the office's CSCA). *REPORT: the JSON report. */
struct office_env;
int chip_qc_readback(struct office_env *env, const char *id, json_t **report, bool *valid,
                     struct err *err);

/* The passport office's question to the national tier (an
 * office_national_fetch, cmd_sync.c): CTX a struct office_national (its
 * URL, CA and time bound). Fails with a clear message in a build without
 * the national tier. */
struct db;
int cli_national_fetch(void *ctx, struct db *db, const char *keys_dir, const char *uin,
                       json_t **answer, struct err *err);

/* The bound of each request to the national tier of the command line and
 * the background sync: OPTION (--timeout S) when given (> 0), else
 * civreg.conf's national_sync_timeout_seconds (default 600, 1 to 3600). */
struct conf;
int cli_national_timeout(const struct conf *conf, long option, int *seconds, struct err *err)
    __attribute__((warn_unused_result));

/* A national-tier command in a build without it: says so on stderr
 * ("civreg COMMAND: ...") and returns EXIT_FAIL. */
int cli_without_national(const char *command);

/* Register the passport office's and the PKI's tables with `audit verify`
 * (registry may not depend on issuance, so the program wires them in). */
void cli_audit_init(void);

#endif
