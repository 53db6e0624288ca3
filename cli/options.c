/* civreg command line: options declared once per command.
 *
 * A command lists its options in a table (name, kind, where the value goes,
 * bounds, the subcommands that take it); the session options --data, --user
 * and --password-file are added here for every command that opens a data
 * directory, --timeout S for every command that asks the national tier
 * (--log-level is taken by main before dispatch). An option a
 * subcommand does not take is refused by name, rather than accepted and
 * ignored. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define OPT_MAX 48
#define VAL_BASE 1000

enum { COMMON_DATA, COMMON_USER, COMMON_PASSWORD_FILE, COMMON_TIMEOUT, COMMON_COUNT };

static const char *const common_names[COMMON_COUNT] = { "data", "user", "password-file",
                                                        "timeout" };
static const char *const common_args[COMMON_COUNT] = { "DIR", "U", "F", "S" };

/* Whether the word W (LEN bytes) is FAMILY.SUB for the command CMD,
 * "FAMILY SUB". */
static bool word_is_command(const char *w, size_t len, const char *cmd)
{
    if (strlen(cmd) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (cmd[i] != (w[i] == '.' ? ' ' : w[i]))
            return false;
    return true;
}

/* Whether SUB is one of the space-separated words of LIST (NULL: every one;
 * "*": every one; a NULL SUB, a single command, is in every list). A word
 * FAMILY.SUB names the subcommand of one family alone, for families that
 * share one table: it is in the list of the command CMD "FAMILY SUB". */
static bool applies(const char *list, const char *cmd, const char *sub)
{
    size_t n;

    if (list == NULL || sub == NULL || strcmp(list, "*") == 0)
        return true;
    n = strlen(sub);
    for (const char *p = list; *p;) {
        size_t w = strcspn(p, " ");
        if (memchr(p, '.', w) != NULL ? word_is_command(p, w, cmd)
                                      : w == n && memcmp(p, sub, n) == 0)
            return true;
        p += w;
        p += strspn(p, " ");
    }
    return false;
}

/* The commands that ask the national tier, and so take --timeout S: each
 * request bounded, connect to answer (registry/national/conn.c). */
static const char *const national_commands[] = {
    "sync push",       "sync person",     "sync search",       "sync duplicates",
    "sync resolve",    "sync deaths",     "sync uin-block",    "application enrol",
};

/* The subcommands that take --data and --user (lists as for applies;
 * NULL: none). */
struct common_for {
    const char *data, *user;
};

static bool asks_national(const char *cmd)
{
    for (size_t i = 0; i < sizeof national_commands / sizeof national_commands[0]; i++)
        if (strcmp(cmd, national_commands[i]) == 0)
            return true;
    return false;
}

/* Whether SUB (of the command CMD) takes the common option I. */
static bool common_applies(int i, const struct common_for *f, const char *cmd, const char *sub)
{
    const char *list = i == COMMON_DATA ? f->data : f->user;

    if (i == COMMON_TIMEOUT)
        return asks_national(cmd);
    return list != NULL && applies(list, cmd, sub);
}

static int take(const char *cmd, const struct cli_opt *o, void *opts, const char *val)
{
    char *base = opts;

    switch (o->kind) {
    case CLI_FLAG: *(bool *)(base + o->offset) = true; return 0;
    case CLI_STRING: *(const char **)(base + o->offset) = val; return 0;
    case CLI_INT:
        if (cli_parse_int(val, o->lo, o->hi, (long *)(base + o->offset)) != 0)
            return cli_usage_error(cmd, "--%s must be a whole number from %ld to %ld", o->name,
                                   o->lo, o->hi);
        return 0;
    case CLI_LIST: {
        struct cli_list *l = (struct cli_list *)(base + o->offset);
        if (l->n >= CLI_LIST_MAX)
            return cli_usage_error(cmd, "at most %d --%s", CLI_LIST_MAX, o->name);
        l->v[l->n++] = val;
        return 0;
    }
    }
    return cli_usage_error(cmd, "--%s: unknown option kind", o->name);
}

/* The one option loop of the command line. */
static int parse_table(const char *cmd, const char *sub, const struct cli_opt *table,
                       const struct common_for *cf, void *opts, int argc, char **argv,
                       int *first_arg)
{
    struct option longopts[OPT_MAX + COMMON_COUNT + 2];
    struct cli_common_opts *common = opts;
    size_t n = 0, ntable = 0;
    int c;

    while (table && table[ntable].name)
        ntable++;
    if (ntable > OPT_MAX)
        return cli_usage_error(cmd, "too many options declared"), CLI_OPTS_USAGE;
    /* Every option is known to getopt, so one that does not apply to SUB is
     * refused by name below instead of as "unknown option". */
    for (int i = 0; i < COMMON_COUNT; i++)
        longopts[n++] = (struct option){ common_names[i], required_argument, NULL, i };
    for (size_t i = 0; i < ntable; i++)
        longopts[n++] = (struct option){ table[i].name,
                                         table[i].kind == CLI_FLAG ? no_argument
                                                                   : required_argument,
                                         NULL, VAL_BASE + (int)i };
    longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
    longopts[n] = (struct option){ NULL, 0, NULL, 0 };

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h')
            return CLI_OPTS_HELP;
        if (c >= 0 && c < COMMON_COUNT) {
            if (!common_applies(c, cf, cmd, sub))
                return cli_usage_error(cmd, "--%s does not apply to `%s`", common_names[c], cmd),
                       CLI_OPTS_USAGE;
            if (c == COMMON_TIMEOUT) {
                if (cli_parse_int(optarg, 1, CLI_TIMEOUT_MAX, &common->timeout) != 0)
                    return cli_usage_error(cmd, "--timeout must be a whole number of seconds "
                                                "from 1 to %d",
                                           CLI_TIMEOUT_MAX),
                           CLI_OPTS_USAGE;
                continue;
            }
            const char **slot = c == COMMON_DATA ? &common->data
                                : c == COMMON_USER ? &common->user
                                                   : &common->password_file;
            *slot = optarg;
            continue;
        }
        if (c >= VAL_BASE && (size_t)(c - VAL_BASE) < ntable) {
            const struct cli_opt *o = &table[c - VAL_BASE];
            if (!applies(o->subcommands, cmd, sub))
                return cli_usage_error(cmd, "--%s does not apply to `%s`", o->name, cmd),
                       CLI_OPTS_USAGE;
            if (take(cmd, o, opts, optarg) != 0)
                return CLI_OPTS_USAGE;
            continue;
        }
        if (c == ':' || (c == '?' && optopt != 0 && optind > 0))
            return cli_usage_error(cmd, "option '%s' needs a value or is unknown",
                                   argv[optind - 1]),
                   CLI_OPTS_USAGE;
        return cli_usage_error(cmd, "unknown option '%s'", argv[optind > 0 ? optind - 1 : 0]),
               CLI_OPTS_USAGE;
    }
    *first_arg = optind;
    return CLI_OPTS_OK;
}

int cli_options_parse(const char *family, const char *sub, const struct cli_opt *table,
                      bool session, void *opts, int argc, char **argv, int *first_arg)
{
    struct common_for cf = { session ? "*" : NULL, session ? "*" : NULL };
    char cmd[64];

    (void)snprintf(cmd, sizeof cmd, "%s %s", family, sub);
    return parse_table(cmd, sub, table, &cf, opts, argc, argv, first_arg);
}

static void command_name(const struct cli_family *f, const char *sub, char *out, size_t size)
{
    if (sub)
        (void)snprintf(out, size, "%s %s", f->name, sub);
    else
        (void)snprintf(out, size, "%s", f->name);
}

static void print_option(const char *name, const char *arg)
{
    char left[64];

    (void)snprintf(left, sizeof left, "--%s%s%s", name, arg ? " " : "", arg ? arg : "");
    printf("  %s\n", left);
}

int cli_family_help(const struct cli_family *f, const char *sub)
{
    const struct cli_command *c = NULL;
    struct common_for cf = { f->data_for, f->user_for };
    bool any = false;
    char cmd[64];

    command_name(f, sub, cmd, sizeof cmd);
    if (f->commands && sub)
        c = cli_find(f->commands, sub);
    if (c == NULL && f->commands == NULL)
        c = cli_find(cli_commands, f->name);
    if (c)
        fputs(c->usage, stdout);
    for (int i = 0; i < COMMON_COUNT; i++)
        if (common_applies(i, &cf, cmd, sub)) {
            if (!any)
                printf("\noptions:\n");
            any = true;
            print_option(common_names[i], common_args[i]);
        }
    for (const struct cli_opt *o = f->options; o && o->name; o++) {
        if (!applies(o->subcommands, cmd, sub))
            continue;
        if (!any)
            printf("\noptions:\n");
        any = true;
        print_option(o->name, o->kind == CLI_FLAG ? NULL
                              : o->arg             ? o->arg
                              : o->kind == CLI_INT ? "N"
                                                   : "VALUE");
    }
    if (any)
        printf("  --log-level debug|info|warn|error|off\n");
    return EXIT_OK;
}

int cli_parse(const struct cli_family *f, const char *sub, void *opts, int argc, char **argv,
              int min_args, int max_args, const char *what)
{
    struct cli_common_opts *common = opts;
    struct common_for cf = { f->data_for, f->user_for };
    char cmd[64];
    int first = 0, rc, nargs;

    command_name(f, sub, cmd, sizeof cmd);
    rc = parse_table(cmd, sub, f->options, &cf, opts, argc, argv, &first);
    if (rc == CLI_OPTS_HELP)
        return cli_family_help(f, sub);
    if (rc != CLI_OPTS_OK)
        return EXIT_USAGE;
    nargs = argc - first;
    if (nargs < min_args)
        return cli_usage_error(cmd, "%s %s required", what ? what : "an argument",
                               min_args == max_args && min_args == 1 ? "is" : "are");
    if (max_args >= 0 && nargs > max_args)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[first + max_args]);
    common->args = argv + first;
    common->nargs = nargs;
    return CLI_GO;
}

int cli_family_dispatch(const struct cli_family *f, int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "help") == 0 && cli_find(f->commands, argv[2]) != NULL)
        return cli_family_help(f, argv[2]);
    return cli_dispatch(f->name, f->commands, argc, argv);
}
