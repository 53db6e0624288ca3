/* civreg command line: options declared once per command.
 *
 * A command lists its options in a table (name, kind, where the value goes,
 * bounds, the subcommands that take it); the session options --data, --user
 * and --password-file are added here for every command that opens a data
 * directory (--log-level is taken by main before dispatch). An option a
 * subcommand does not take is refused by name, rather than accepted and
 * ignored. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define OPT_MAX 48
#define VAL_BASE 1000

enum { COMMON_DATA, COMMON_USER, COMMON_PASSWORD_FILE, COMMON_COUNT };

static const char *const common_names[COMMON_COUNT] = { "data", "user", "password-file" };

/* Whether SUB is one of the space-separated words of LIST (NULL: every one). */
static bool applies(const char *list, const char *sub)
{
    size_t n = strlen(sub);

    if (list == NULL)
        return true;
    for (const char *p = list; *p;) {
        size_t w = strcspn(p, " ");
        if (w == n && memcmp(p, sub, n) == 0)
            return true;
        p += w;
        p += strspn(p, " ");
    }
    return false;
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

int cli_options_parse(const char *family, const char *sub, const struct cli_opt *table,
                      bool session, void *opts, int argc, char **argv, int *first_arg)
{
    struct option longopts[OPT_MAX + COMMON_COUNT + 2];
    struct cli_common_opts *common = opts;
    char cmd[64];
    size_t n = 0, ntable = 0;
    int c;

    (void)snprintf(cmd, sizeof cmd, "%s %s", family, sub);
    while (table && table[ntable].name)
        ntable++;
    if (ntable > OPT_MAX)
        return cli_usage_error(cmd, "too many options declared"), CLI_OPTS_USAGE;
    if (session)
        for (int i = 0; i < COMMON_COUNT; i++)
            longopts[n++] = (struct option){ common_names[i], required_argument, NULL, i };
    /* Every declared option is known to getopt, so one that does not apply
     * to SUB is refused by name below instead of as "invalid option". */
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
        if (session && c >= 0 && c < COMMON_COUNT) {
            const char **slot = c == COMMON_DATA ? &common->data
                                : c == COMMON_USER ? &common->user
                                                   : &common->password_file;
            *slot = optarg;
            continue;
        }
        if (c >= VAL_BASE && (size_t)(c - VAL_BASE) < ntable) {
            const struct cli_opt *o = &table[c - VAL_BASE];
            if (!applies(o->subcommands, sub))
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
