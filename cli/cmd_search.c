/* civreg search, civreg duplicates: finding people and resolving possible
 * duplicate births (registry/search.h). */
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

struct search_opts {
    struct cli_common_opts common;
    long limit;
    bool table, reindex;
};

static const struct cli_opt search_options[] = {
    CLI_OPT_INT("limit", struct search_opts, limit, 1, 200, NULL),
    CLI_OPT_FLAG("table", struct search_opts, table, NULL),
    CLI_OPT_FLAG("reindex", struct search_opts, reindex, NULL),
    CLI_OPT_END,
};

static const struct cli_family search_family = { "search", NULL, search_options, "*", "*" };

int cmd_search(int argc, char **argv)
{
    struct search_opts o = { .limit = 20 };
    struct buf q = BUF_INIT(REGISTRY_QUERY_MAX + 1);
    struct cli_session s;
    struct err err = ERR_INIT;
    json_t *out = NULL;
    const char *cmd;
    int rc;

    if ((rc = cli_parse(&search_family, NULL, &o, argc, argv, 0, -1, NULL)) != CLI_GO)
        return rc;
    if (!o.reindex && o.common.nargs == 0)
        return cli_usage_error("search", "a query is required");
    if (o.reindex && o.common.nargs > 0)
        return cli_usage_error("search", "--reindex takes no query");
    for (int i = 0; i < o.common.nargs; i++)
        if ((i > 0 && buf_append_byte(&q, ' ') != 0) || buf_append_str(&q, o.common.args[i]) != 0)
            return cli_usage_error("search", "the query is longer than %d bytes",
                                   REGISTRY_QUERY_MAX);
    cmd = o.reindex ? "search --reindex" : "search";
    if ((rc = cli_sign_in(cmd, &o.common, &s)) != 0) {
        buf_release(&q);
        return rc;
    }
    if (o.reindex) {
        long long n = 0;
        if (registry_search_reindex(s.db, &n, &err) != 0) {
            rc = cli_fail(cmd, &err);
        } else {
            printf("reindexed %lld records\n", n);
            rc = EXIT_OK;
        }
    } else if (registry_search(s.db, s.actor, buf_str(&q), (int)o.limit, &out, &err) != 0) {
        rc = cli_fail(cmd, &err);
    } else if (o.table) {
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

static cli_run_fn dup_list, dup_resolve;

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

struct dup_opts {
    struct cli_common_opts common;
    bool same, distinct;
    const char *reason;
};

static const struct cli_opt dup_options[] = {
    CLI_OPT_FLAG("same", struct dup_opts, same, "resolve"),
    CLI_OPT_FLAG("distinct", struct dup_opts, distinct, "resolve"),
    CLI_OPT_STR("reason", struct dup_opts, reason, "resolve", "TEXT"),
    CLI_OPT_END,
};

static const struct cli_family dup_family = { "duplicates", dup_commands, dup_options, "*",
                                              "*" };

int cmd_duplicates(int argc, char **argv)
{
    return cli_family_dispatch(&dup_family, argc, argv);
}

static int do_dup_list(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    const struct dup_opts *o = opts;
    return registry_dup_list(s->db, s->actor, o->common.nargs ? o->common.args[0] : NULL, out,
                             err);
}

static int dup_list(int argc, char **argv)
{
    struct dup_opts o = { 0 };
    int rc;

    if ((rc = cli_parse(&dup_family, "list", &o, argc, argv, 0, 1, NULL)) != CLI_GO)
        return rc;
    return cli_run_signed("duplicates list", &o.common, do_dup_list, &o);
}

static int dup_resolve(int argc, char **argv)
{
    struct dup_opts o = { 0 };
    struct cli_session s;
    struct err err = ERR_INIT;
    int rc;

    if ((rc = cli_parse(&dup_family, "resolve", &o, argc, argv, 2, 2, "RECORD and OTHER")) != CLI_GO)
        return rc;
    if (o.same + o.distinct != 1)
        return cli_usage_error("duplicates resolve", "exactly one of --same or --distinct");
    if (o.reason == NULL || *o.reason == '\0')
        return cli_usage_error("duplicates resolve", "--reason TEXT is required");
    if ((rc = cli_sign_in("duplicates resolve", &o.common, &s)) != 0)
        return rc;
    if (registry_dup_resolve(s.db, s.actor, o.common.args[0], o.common.args[1], o.same,
                             o.reason, &err) != 0) {
        rc = cli_fail("duplicates resolve", &err);
    } else {
        printf("%s and %s: %s\n", o.common.args[0], o.common.args[1],
               o.same ? "the same birth (linked as duplicate)" : "distinct births");
        rc = EXIT_OK;
    }
    cli_session_close(&s);
    return rc;
}
