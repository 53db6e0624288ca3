/* civreg search, civreg duplicates: finding people and resolving possible
 * duplicate births (registry/search.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_registry.h"
#include "core/buf.h"
#include "registry/registry.h"
#include "registry/search.h"

static void print_table(const json_t *res)
{
    const json_t *rows = json_object_get(res, "results"), *r;
    size_t i;

    printf("%-5s %-24s %-20s %-22s %-10s %-7s %-18s %s\n", "score", "record", "family name",
           "given names", "born", "sex", "registration", "uin");
    json_array_foreach(rows, i, r) {
        const char *regno = json_string_value(json_object_get(r, "registration_number"));
        const char *uin = json_string_value(json_object_get(r, "uin"));
        printf("%-5d %-24s %-20s %-22s %-10s %-7s %-18s %s\n",
               (int)json_integer_value(json_object_get(r, "score")),
               json_string_value(json_object_get(r, "record_id")),
               json_string_value(json_object_get(r, "family_name")),
               json_string_value(json_object_get(r, "given_names")),
               json_string_value(json_object_get(r, "date_of_birth")),
               json_string_value(json_object_get(r, "sex")), regno ? regno : "-",
               uin ? uin : "-");
    }
}

int cmd_search(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "user", required_argument, NULL, 'U' },
        { "password-file", required_argument, NULL, 'p' },
        { "limit", required_argument, NULL, 'n' },
        { "table", no_argument, NULL, 't' },
        { "reindex", no_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = NULL, *user = NULL, *pwfile = NULL;
    struct buf q = BUF_INIT(REGISTRY_QUERY_MAX + 1);
    bool table = false, reindex = false;
    struct cli_session s;
    struct err err = ERR_INIT;
    json_t *out = NULL;
    long limit = 20;
    int c, rc;

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'U': user = optarg; break;
        case 'p': pwfile = optarg; break;
        case 'n':
            if (cli_parse_int(optarg, 1, 200, &limit) != 0)
                return cli_usage_error("search", "--limit must be 1 to 200");
            break;
        case 't': table = true; break;
        case 'r': reindex = true; break;
        case 'h': return cli_help(cli_find(cli_commands, "search"));
        default: return cli_usage_error("search", "invalid option");
        }
    }
    if (!reindex && optind >= argc)
        return cli_usage_error("search", "a query is required");
    if (reindex && optind < argc)
        return cli_usage_error("search", "--reindex takes no query");
    for (int i = optind; i < argc; i++)
        if ((i > optind && buf_append_byte(&q, ' ') != 0) || buf_append_str(&q, argv[i]) != 0)
            return cli_usage_error("search", "the query is longer than %d bytes",
                                   REGISTRY_QUERY_MAX);
    if ((rc = cli_session_open("search", data, user, pwfile, true, &s)) != 0) {
        buf_release(&q);
        return rc;
    }
    if (reindex) {
        long long n = 0;
        if (registry_require_action(s.actor, "search.reindex", &err) != 0 ||
            registry_search_reindex(s.db, &n, &err) != 0) {
            rc = cli_fail("search", &err);
        } else {
            printf("reindexed %lld records\n", n);
            rc = EXIT_OK;
        }
    } else if (registry_search(s.db, s.actor, buf_str(&q), (int)limit, &out, &err) != 0) {
        rc = cli_fail("search", &err);
    } else if (table) {
        print_table(out);
        rc = EXIT_OK;
    } else {
        rc = cli_print_json(out);
    }
    json_decref(out);
    buf_release(&q);
    cli_session_close(&s);
    return rc;
}

static int dup_list(int argc, char **argv);
static int dup_resolve(int argc, char **argv);

static const struct cli_command dup_commands[] = {
    { "list", dup_list, "possible duplicates (of one record, or all open ones)",
      "usage: civreg duplicates list [RECORD] [--data DIR] --user U [--password-file F]\n"
      "\n"
      "Prints the candidate pairs of RECORD (id or registration number), resolved\n"
      "or not, or with no RECORD every open pair, as JSON: record_id, other_id,\n"
      "score (0-1000), why (the fields compared and how well they agree), status\n"
      "(open, duplicate, distinct), and who resolved it, when and why.\n" },
    { "resolve", dup_resolve, "resolve a candidate pair (registrar)",
      "usage: civreg duplicates resolve RECORD OTHER --same|--distinct --reason TEXT\n"
      "                                 [--data DIR] --user U [--password-file F]\n"
      "\n"
      "--same: RECORD is the same birth as OTHER and is linked to it as a\n"
      "duplicate; RECORD can then never be registered. --distinct: two different\n"
      "births. Either way a signed record.duplicate event is logged, and the\n"
      "pair no longer holds back registration.\n" },
    { NULL, NULL, NULL, NULL },
};

int cmd_duplicates(int argc, char **argv)
{
    return cli_dispatch("duplicates", dup_commands, argc, argv);
}

static int dup_list(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "user", required_argument, NULL, 'U' },
        { "password-file", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = NULL, *user = NULL, *pwfile = NULL;
    struct cli_session s;
    struct err err = ERR_INIT;
    json_t *out = NULL;
    int c, rc;

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'U': user = optarg; break;
        case 'p': pwfile = optarg; break;
        case 'h': return cli_help(&dup_commands[0]);
        default: return cli_usage_error("duplicates list", "invalid option");
        }
    }
    if (optind + 1 < argc)
        return cli_usage_error("duplicates list", "at most one RECORD");
    if ((rc = cli_session_open("duplicates list", data, user, pwfile, true, &s)) != 0)
        return rc;
    if (registry_dup_list(s.db, s.actor, optind < argc ? argv[optind] : NULL, &out, &err) != 0)
        rc = cli_fail("duplicates list", &err);
    else
        rc = cli_print_json(out);
    json_decref(out);
    cli_session_close(&s);
    return rc;
}

static int dup_resolve(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "user", required_argument, NULL, 'U' },
        { "password-file", required_argument, NULL, 'p' },
        { "same", no_argument, NULL, 's' },
        { "distinct", no_argument, NULL, 'x' },
        { "reason", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = NULL, *user = NULL, *pwfile = NULL, *reason = NULL;
    int same = 0, distinct = 0;
    struct cli_session s;
    struct err err = ERR_INIT;
    int c, rc;

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'U': user = optarg; break;
        case 'p': pwfile = optarg; break;
        case 's': same = 1; break;
        case 'x': distinct = 1; break;
        case 'r': reason = optarg; break;
        case 'h': return cli_help(&dup_commands[1]);
        default: return cli_usage_error("duplicates resolve", "invalid option");
        }
    }
    if (optind + 2 != argc)
        return cli_usage_error("duplicates resolve", "RECORD and OTHER are required");
    if (same + distinct != 1)
        return cli_usage_error("duplicates resolve", "exactly one of --same or --distinct");
    if (reason == NULL || *reason == '\0')
        return cli_usage_error("duplicates resolve", "--reason TEXT is required");
    if ((rc = cli_session_open("duplicates resolve", data, user, pwfile, true, &s)) != 0)
        return rc;
    if (registry_dup_resolve(s.db, s.actor, argv[optind], argv[optind + 1], same != 0, reason,
                             &err) != 0) {
        rc = cli_fail("duplicates resolve", &err);
    } else {
        printf("%s and %s: %s\n", argv[optind], argv[optind + 1],
               same ? "the same birth (linked as duplicate)" : "distinct births");
        rc = EXIT_OK;
    }
    cli_session_close(&s);
    return rc;
}
