/* civreg sync ...: a district and the national tier (push, person,
 * uin-block). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/json.h"

#ifdef CIVREG_HAVE_NATIONAL
#include "db/datadir.h"
#include "db/db.h"
#include "registry/national/national.h"

struct sync_opts {
    struct cli_common_opts common; /* --data */
    const char *national, *out;
    long batch, count;
    const char *arg;
};

static int parse(const char *name, int argc, char **argv, bool want_arg, struct sync_opts *o);

/* Open the data directory and a client signing as its office. */
static int open_client(const char *cmd, const struct sync_opts *o, struct datadir **dd,
                       struct db **db, struct national_client **c)
{
    struct err err = ERR_INIT;

    if (datadir_open(cli_data_dir(o->common.data), dd, &err) != 0 ||
        datadir_db_open(*dd, DB_OPEN_MIGRATE, db, &err) != 0 ||
        national_client_open(o->national, *db, (*dd)->keys_dir, c, &err) != 0)
        return cli_fail(cmd, &err);
    return 0;
}

static void close_client(struct datadir *dd, struct db *db, struct national_client *c)
{
    national_client_free(c);
    db_close(db);
    datadir_free(dd);
}

static int s_push(int argc, char **argv)
{
    struct sync_opts o;
    struct datadir *dd = NULL;
    struct db *db = NULL;
    struct national_client *c = NULL;
    struct national_push_stats st;
    struct err err = ERR_INIT;
    int rc = parse("push", argc, argv, false, &o);

    if (rc != 0)
        return rc == -2 ? EXIT_OK : rc;
    if ((rc = open_client("sync push", &o, &dd, &db, &c)) == 0) {
        if (national_sync_push(c, db, (unsigned)o.batch, &st, &err) != 0) {
            rc = cli_fail("sync push", &err);
        } else {
            printf("pushed %llu events in %llu batches: the national tier holds %llu\n",
                   (unsigned long long)(st.to - st.from), (unsigned long long)st.batches,
                   (unsigned long long)st.to);
            rc = EXIT_OK;
        }
    }
    close_client(dd, db, c);
    return rc;
}

/* One signed request whose JSON answer is printed or written to --out. */
static int request(const char *cmd, const struct sync_opts *o, const char *path, json_t *body)
{
    struct datadir *dd = NULL;
    struct db *db = NULL;
    struct national_client *c = NULL;
    struct err err = ERR_INIT;
    struct buf b = BUF_INIT((size_t)1 << 30);
    json_t *resp = NULL;
    int status = 0, rc;

    if ((rc = open_client(cmd, o, &dd, &db, &c)) != 0)
        goto out;
    if (national_client_post(c, path, body, &status, &resp, &err) != 0) {
        rc = cli_fail(cmd, &err);
        goto out;
    }
    if (status != 200) {
        err_set(&err, "%s (%d)", json_string_value(json_object_get(resp, "message"))
                                     ? json_string_value(json_object_get(resp, "message"))
                                     : "refused",
                status);
        rc = cli_fail(cmd, &err);
        goto out;
    }
    if (json_dump_compact(resp, &b, &err) != 0) {
        rc = cli_fail(cmd, &err);
        goto out;
    }
    if (o->out) {
        rc = cli_write_file(o->out, b.data, b.len, &err) == 0 ? EXIT_OK : cli_fail(cmd, &err);
    } else {
        fwrite(b.data, 1, b.len, stdout);
        putchar('\n');
        rc = EXIT_OK;
    }
out:
    buf_release(&b);
    json_decref(resp);
    close_client(dd, db, c);
    return rc;
}

static int s_person(int argc, char **argv)
{
    struct sync_opts o;
    json_t *body;
    int rc = parse("person", argc, argv, true, &o);

    if (rc != 0)
        return rc == -2 ? EXIT_OK : rc;
    body = json_pack("{s:s}", "uin", o.arg);
    rc = request("sync person", &o, "/national/v1/person", body);
    json_decref(body);
    return rc;
}

static int s_uin_block(int argc, char **argv)
{
    struct sync_opts o;
    json_t *body;
    int rc = parse("uin-block", argc, argv, false, &o);

    if (rc != 0)
        return rc == -2 ? EXIT_OK : rc;
    body = json_pack("{s:I}", "count", (json_int_t)o.count);
    rc = request("sync uin-block", &o, "/national/v1/uin-block", body);
    json_decref(body);
    return rc;
}

static int s_search(int argc, char **argv)
{
    struct sync_opts o;
    json_t *body;
    int rc = parse("search", argc, argv, true, &o);

    if (rc != 0)
        return rc == -2 ? EXIT_OK : rc;
    body = json_pack("{s:s, s:i}", "query", o.arg, "limit", 20);
    rc = request("sync search", &o, "/national/v1/search", body);
    json_decref(body);
    return rc;
}

static const struct cli_command sync_commands[] = {
    { "push", s_push, "push the district log to the national tier",
      "usage: civreg sync push --national URL [--data DIR] [--batch N]\n"
      "\n"
      "Sends every event the national tier does not hold yet, N per request\n"
      "(default 2000), each batch with the signed tree head at its end and the\n"
      "RFC 6962 consistency proof from the head the national tier accepted.\n"
      "Requests are signed with the office log key. Safe to interrupt and run\n"
      "again: it resumes from the national tier's accepted head.\n" },
    { "person", s_person, "a person of any office from the national tier (bundle)",
      "usage: civreg sync person UIN --national URL [--data DIR] [--out FILE]\n"
      "\n"
      "Writes the person's civreg.bundle.v1 (record, link, events with inclusion\n"
      "proofs against the holding office's signed head) and whether a death is\n"
      "registered in any office: `civreg audit verify-bundle` checks it offline.\n" },
    { "uin-block", s_uin_block, "reserve a block of national UINs",
      "usage: civreg sync uin-block --national URL [--data DIR] [--count N]\n" },
    { "search", s_search, "search every office's births by name",
      "usage: civreg sync search NAME --national URL [--data DIR]\n" },
    { NULL, NULL, NULL, NULL },
};

static const struct cli_opt sync_options[] = {
    CLI_OPT_STR("national", struct sync_opts, national, NULL, "URL"),
    CLI_OPT_INT("batch", struct sync_opts, batch, 1, 10000, "push"),
    CLI_OPT_INT("count", struct sync_opts, count, 1, 10000, "uin-block"),
    CLI_OPT_STR("out", struct sync_opts, out, "person uin-block search", "FILE"),
    CLI_OPT_END,
};

static const struct cli_family sync_family = { "sync", sync_commands, sync_options, "*", NULL };

int cmd_sync(int argc, char **argv)
{
    return cli_family_dispatch(&sync_family, argc, argv);
}

/* Returns 0 to go on, else an exit code. */
static int parse(const char *name, int argc, char **argv, bool want_arg, struct sync_opts *o)
{
    char cmd[40];
    int rc;

    (void)snprintf(cmd, sizeof cmd, "sync %s", name);
    memset(o, 0, sizeof *o);
    o->count = 1000;
    rc = cli_parse(&sync_family, name, o, argc, argv, want_arg, want_arg, "one argument");
    if (rc != CLI_GO)
        return rc == EXIT_OK ? -2 : rc;
    if (o->national == NULL)
        return cli_usage_error(cmd, "--national URL is required (http://HOST:PORT)");
    o->arg = want_arg ? o->common.args[0] : NULL;
    return 0;
}

#else

int cmd_sync(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "civreg sync: this civreg was built without the national tier "
                    "(configure with -DCIVREG_NATIONAL=ON and libpq-dev)\n");
    return EXIT_FAIL;
}

#endif
