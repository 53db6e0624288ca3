/* civreg sync ...: a district and the national tier (push, person,
 * uin-block). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/conf.h"
#include "core/json.h"

#ifdef CIVREG_HAVE_NATIONAL
#include "cli_registry.h"
#include "db/datadir.h"
#include "db/db.h"
#include "issuance/passport/passport.h"
#include "registry/national/national.h"
#include "registry/registry.h"

struct sync_opts {
    struct cli_common_opts common; /* --data; --user, --password-file for resolve */
    const char *national, *out, *ca, *reason;
    long batch, count, uin_low, uin_block;
    const char *arg;
    bool same, distinct;
};

static int parse(const char *name, int argc, char **argv, bool want_arg, struct sync_opts *o);

int cli_national_timeout(const struct conf *conf, long option, int *seconds, struct err *err)
{
    unsigned long s = 0;

    if (option > 0) {
        *seconds = (int)option;
        return 0;
    }
    if (conf_get_uint(conf, "national_sync_timeout_seconds", NATIONAL_SYNC_TIMEOUT, 1,
                      CLI_TIMEOUT_MAX, &s, err) != 0)
        return -1;
    *seconds = (int)s;
    return 0;
}

/* A client of URL signing as the office of DD (its database DB), verifying
 * https against CA, each request bounded by TIMEOUT (--timeout, else
 * civreg.conf's national_sync_timeout_seconds). */
static int client_of(const char *url, const char *ca, long timeout, const struct datadir *dd,
                     struct db *db, struct national_client **c, struct err *err)
{
    int seconds = 0;

    if (cli_national_timeout(dd->conf, timeout, &seconds, err) != 0)
        return -1;
    return national_client_open(url, ca, seconds, db, dd->keys_dir, c, err);
}

/* Open the data directory and a client signing as its office. */
static int open_client(const char *cmd, const struct sync_opts *o, struct datadir **dd,
                       struct db **db, struct national_client **c)
{
    struct err err = ERR_INIT;

    if (datadir_open(cli_data_dir(o->common.data), dd, &err) != 0 ||
        datadir_db_open(*dd, DB_OPEN_MIGRATE, db, &err) != 0 ||
        client_of(o->national, o->ca, o->common.timeout, *dd, *db, c, &err) != 0)
        return cli_fail(cmd, &err);
    return 0;
}

static void close_client(struct datadir *dd, struct db *db, struct national_client *c)
{
    national_client_free(c);
    db_close(db);
    datadir_free(dd);
}

static int push(struct national_client *c, struct db *db, const struct sync_opts *o,
                struct err *err)
{
    struct national_push_stats st;
    int got = 0;

    if (national_sync_push(c, db, (unsigned)o->batch, &st, err) != 0)
        return -1;
    printf("pushed %llu events in %llu batches: the national tier holds %llu\n",
           (unsigned long long)(st.to - st.from), (unsigned long long)st.batches,
           (unsigned long long)st.to);
    /* the events are in; then keep the office's national UINs topped up */
    if (national_uin_topup(c, db, (int)o->uin_low, (int)o->uin_block, &got, err) != 0)
        return -1;
    if (got > 0)
        printf("received a block of %d national UINs\n", got);
    return 0;
}

static int uin_block(struct national_client *c, struct db *db, const struct sync_opts *o,
                     struct err *err)
{
    uint64_t unused = 0, total = 0;
    struct buf b = BUF_INIT(4096);
    json_t *answer;
    int got = 0, rc = -1;

    if (national_uin_block_fetch(c, db, (int)o->count, &got, err) != 0 ||
        national_uin_pool_count(db, &unused, &total, err) != 0)
        return -1;
    answer = json_pack("{s:i, s:I, s:I}", "received", got, "unused", (json_int_t)unused, "total",
                       (json_int_t)total);
    if (answer != NULL && json_dump_compact(answer, &b, err) == 0) {
        printf("%.*s\n", (int)b.len, (const char *)b.data);
        rc = 0;
    }
    json_decref(answer);
    buf_release(&b);
    return rc;
}

static int deaths(struct national_client *c, struct db *db, const struct sync_opts *o,
                  struct err *err)
{
    long n = 0;

    (void)o;
    if (national_sync_deaths(c, db, &n, err) != 0)
        return -1;
    printf("%ld death%s received from the national tier\n", n, n == 1 ? "" : "s");
    return 0;
}

/* The commands acting through a client that signs as the office differ only
 * by data: the subcommand and what it does (printing its own lines). */
static const struct {
    const char *name;
    int (*act)(struct national_client *c, struct db *db, const struct sync_opts *o,
               struct err *err);
} client_subs[] = {
    { "push", push },
    { "uin-block", uin_block },
    { "deaths", deaths },
};

static int s_client(int argc, char **argv)
{
    int what = CLI_SUB_INDEX(client_subs, argv[0]);
    struct sync_opts o;
    struct datadir *dd = NULL;
    struct db *db = NULL;
    struct national_client *c = NULL;
    struct err err = ERR_INIT;
    char cmd[40];
    int rc;

    if (what < 0)
        return cli_usage_error("sync", "unknown command '%s'", argv[0]);
    rc = parse(client_subs[what].name, argc, argv, false, &o);
    if (rc != 0)
        return rc == -2 ? EXIT_OK : rc;
    /* cannot truncate: the names are short constants */
    (void)snprintf(cmd, sizeof cmd, "sync %s", client_subs[what].name);
    if ((rc = open_client(cmd, &o, &dd, &db, &c)) == 0)
        rc = client_subs[what].act(c, db, &o, &err) == 0 ? EXIT_OK : cli_fail(cmd, &err);
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

/* The requests whose answer is printed differ only by data: the
 * subcommand, whether it takes an argument, the path and the body. */
static const char *const request_subs[] = { "person", "search", "duplicates" };

static int s_request(int argc, char **argv)
{
    static const char *const paths[] = { "/national/v1/person", "/national/v1/search",
                                         "/national/v1/duplicates" };
    int what = CLI_SUB_INDEX(request_subs, argv[0]);
    struct sync_opts o;
    json_t *body;
    char cmd[40];
    int rc;

    if (what < 0)
        return cli_usage_error("sync", "unknown command '%s'", argv[0]);
    rc = parse(request_subs[what], argc, argv, what != 2, &o);
    if (rc != 0)
        return rc == -2 ? EXIT_OK : rc;
    if (what == 0)
        body = json_pack("{s:s}", "uin", o.arg);
    else if (what == 1)
        body = json_pack("{s:s, s:i}", "query", o.arg, "limit", 20);
    else
        body = json_object();
    /* cannot truncate: REQUEST_SUBS are short constants */
    (void)snprintf(cmd, sizeof cmd, "sync %s", request_subs[what]);
    rc = request(cmd, &o, paths[what], body);
    json_decref(body);
    return rc;
}

/* Resolve a cross-district duplicate case: the case as the nation lists it
 * for this office, a signed national.duplicate event of the registrar in
 * this office's log, then a push so the nation records it. */
static int s_resolve(int argc, char **argv)
{
    const char *cmd = "sync resolve";
    struct sync_opts o;
    struct cli_session s;
    struct national_client *c = NULL;
    struct err err = ERR_INIT;
    long long seq = -1;
    uint64_t held = 0;
    long id;
    int rc = parse("resolve", argc, argv, true, &o);

    if (rc != 0)
        return rc == -2 ? EXIT_OK : rc;
    if (cli_parse_int(o.arg, 1, 2000000000L, &id) != 0)
        return cli_usage_error(cmd, "CASE: the case number `sync duplicates` lists");
    if (o.same == o.distinct)
        return cli_usage_error(cmd, "one of --same or --distinct");
    if (o.reason == NULL)
        return cli_usage_error(cmd, "--reason TEXT is required");
    if ((rc = cli_session_open(cmd, o.common.data, o.common.user, o.common.password_file, true, &s)) != EXIT_OK)
        return rc;
    if (client_of(o.national, o.ca, o.common.timeout, s.dd, s.db, &c, &err) != 0 ||
        national_dup_resolve_case(c, s.db, s.actor, id, o.same, o.reason, &seq, &held, &err) != 0) {
        if (seq >= 0)
            err_prefix(&err, "case %ld resolved by event %lld, not pushed yet", id, seq);
        rc = cli_fail(cmd, &err);
        goto out;
    }
    printf("case %ld resolved as %s by event %lld; the national tier holds %llu events of this "
           "office\n",
           id, o.same ? "same person" : "distinct persons", seq, (unsigned long long)held);
    rc = EXIT_OK;
out:
    national_client_free(c);
    cli_session_close(&s);
    return rc;
}

int cli_national_fetch(void *ctx, struct db *db, const char *keys_dir, const char *uin,
                       json_t **answer, struct err *err)
{
    const struct office_national *n = ctx;
    struct national_client *c = NULL;
    int rc = -1;

    *answer = NULL;
    if (n == NULL || n->url == NULL || n->url[0] == '\0')
        return err_set(err, "no national tier configured (--national URL or national_url in "
                            "civreg.conf)");
    if (national_client_open(n->url, n->ca, n->timeout_s, db, keys_dir, &c, err) == 0)
        rc = national_fetch_person(c, uin, answer, err);
    national_client_free(c);
    return rc;
}

/* The background sync's state, as `civreg serve` last wrote it, with the
 * UINs the office holds now. */
static int s_status(int argc, char **argv)
{
    struct sync_opts o;
    struct datadir *dd = NULL;
    struct db *db = NULL;
    struct err err = ERR_INIT;
    struct buf b = BUF_INIT(1 << 16), outb = BUF_INIT(1 << 16);
    json_t *st = NULL;
    uint64_t unused = 0, total = 0;
    char path[4200];
    int rc = parse("status", argc, argv, false, &o);

    if (rc != 0)
        return rc == -2 ? EXIT_OK : rc;
    if (datadir_open(cli_data_dir(o.common.data), &dd, &err) != 0 ||
        datadir_db_open(dd, DB_OPEN_MIGRATE, &db, &err) != 0 ||
        national_uin_pool_count(db, &unused, &total, &err) != 0) {
        rc = cli_fail("sync status", &err);
        goto out;
    }
    (void)snprintf(path, sizeof path, "%s/national-sync.json", dd->dir);
    if (cli_read_file(path, 1 << 16, &b, &err) != 0 || json_parse((const char *)b.data, b.len,
                                                                  &st, &err) != 0) {
        err_set(&err, "no background sync has run here (set national_url in civreg.conf and "
                      "run `civreg serve`)");
        rc = cli_fail("sync status", &err);
        goto out;
    }
    (void)json_object_set_new(st, "uins_unused", json_integer((json_int_t)unused));
    (void)json_object_set_new(st, "uins_total", json_integer((json_int_t)total));
    if (json_dump_compact(st, &outb, &err) != 0) {
        rc = cli_fail("sync status", &err);
        goto out;
    }
    printf("%.*s\n", (int)outb.len, (const char *)outb.data);
    rc = EXIT_OK;
out:
    json_decref(st);
    buf_release(&b);
    buf_release(&outb);
    db_close(db);
    datadir_free(dd);
    return rc;
}

static const struct cli_command sync_commands[] = {
    { "push", s_client, "push the district log to the national tier",
      "usage: civreg sync push --national URL [--data DIR] [--batch N] [--ca FILE]\n"
      "                        [--uin-low N] [--uin-block N] [--timeout S]\n"
      "\n"
      "Sends every event the national tier does not hold yet, N per request\n"
      "(default 2000), each batch with the signed tree head at its end and the\n"
      "RFC 6962 consistency proof from the head the national tier accepted.\n"
      "Requests are signed with the office log key. Safe to interrupt and run\n"
      "again: it resumes from the national tier's accepted head. An office that\n"
      "holds national UINs (`sync uin-block`) then receives a new block of\n"
      "--uin-block UINs (default 1000) when fewer than --uin-low (default 200)\n"
      "are unused. https:// URLs are verified against --ca FILE (default: the\n"
      "system's CAs); http:// is accepted only to a loopback address.\n"
      "Every request to the national tier (this and the other sync commands) is\n"
      "bounded by --timeout S (default national_sync_timeout_seconds in\n"
      "civreg.conf, 600): connected within 10 s (or S when shorter), the answer\n"
      "complete within S; a refused connection fails at once.\n" },
    { "person", s_request, "a person of any office from the national tier (bundle)",
      "usage: civreg sync person UIN --national URL [--data DIR] [--out FILE]\n"
      "\n"
      "Writes the person's civreg.bundle.v1 (record, link, events with inclusion\n"
      "proofs against the holding office's signed head) and whether a death is\n"
      "registered in any office: `civreg audit verify-bundle` checks it offline.\n" },
    { "duplicates", s_request, "the cross-district duplicate cases of this office",
      "usage: civreg sync duplicates --national URL [--data DIR]\n"
      "\n"
      "The same birth registered here and in another office (same name key and\n"
      "date of birth) is a case for both registrars: id, both records, status\n"
      "(open, same, distinct) and the signed events that resolved it.\n" },
    { "resolve", s_resolve, "resolve a cross-district duplicate case (registrar)",
      "usage: civreg sync resolve CASE --same|--distinct --reason TEXT --national URL\n"
      "       [--data DIR] --user U [--password-file F]\n"
      "\n"
      "Appends a signed national.duplicate event (the case, this office's record,\n"
      "the decision and reason) to this office's log and pushes it: the national\n"
      "tier verifies it like every event and marks the case.\n" },
    { "deaths", s_client, "receive the deaths registered in every other office",
      "usage: civreg sync deaths --national URL [--data DIR]\n"
      "\n"
      "Keeps the deaths the national tier holds from every office in this data\n"
      "directory: from then on enrolment, approval and personalization of those\n"
      "persons are refused here, offline too. Resumes where the last run ended.\n" },
    { "uin-block", s_client, "reserve a block of national UINs",
      "usage: civreg sync uin-block --national URL [--data DIR] [--count N] [--ca FILE]\n"
      "\n"
      "Receives a block of N (default 1000) UINs the national tier reserved for\n"
      "this office and stores it: from then on registration draws its UINs from\n"
      "the office's blocks, offline, and refuses when none is left (never a UIN\n"
      "of its own, so no two offices can assign the same one).\n" },
    { "status", s_status, "the background sync of `civreg serve` (JSON)",
      "usage: civreg sync status [--data DIR]\n"
      "\n"
      "When civreg.conf names national_url (with national_ca for a private CA,\n"
      "national_sync_seconds, default 60), `civreg serve` pushes the log in the\n"
      "background whenever it grows, backing off (2 s doubling to 300 s) while\n"
      "the national tier is unreachable. Prints its last state: sizes, last\n"
      "attempt and success, next attempt, last error, national UINs held.\n" },
    { "search", s_request, "search every office's births by name",
      "usage: civreg sync search NAME --national URL [--data DIR]\n" },
    { NULL, NULL, NULL, NULL },
};

static const struct cli_opt sync_options[] = {
    CLI_OPT_STR("national", struct sync_opts, national, NULL, "URL"),
    CLI_OPT_STR("ca", struct sync_opts, ca, "push person uin-block search deaths duplicates resolve", "FILE"),
    CLI_OPT_INT("batch", struct sync_opts, batch, 1, 10000, "push"),
    CLI_OPT_INT("uin-low", struct sync_opts, uin_low, 0, 10000, "push"),
    CLI_OPT_INT("uin-block", struct sync_opts, uin_block, 1, 10000, "push"),
    CLI_OPT_INT("count", struct sync_opts, count, 1, 10000, "uin-block"),
    CLI_OPT_STR("out", struct sync_opts, out, "person search duplicates", "FILE"),
    CLI_OPT_STR("reason", struct sync_opts, reason, "resolve", "TEXT"),
    CLI_OPT_FLAG("same", struct sync_opts, same, "resolve"),
    CLI_OPT_FLAG("distinct", struct sync_opts, distinct, "resolve"),
    CLI_OPT_END,
};

static const struct cli_family sync_family = { "sync", sync_commands, sync_options, "*",
                                                "resolve" };

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
    o->count = NATIONAL_UIN_BLOCK;
    o->uin_low = NATIONAL_UIN_LOW;
    o->uin_block = NATIONAL_UIN_BLOCK;
    rc = cli_parse(&sync_family, name, o, argc, argv, want_arg, want_arg, "one argument");
    if (rc != CLI_GO)
        return rc == EXIT_OK ? -2 : rc;
    if (o->national == NULL && strcmp(name, "status") != 0)
        return cli_usage_error(cmd, "--national URL is required (https://HOST:PORT)");
    o->arg = want_arg ? o->common.args[0] : NULL;
    return 0;
}

#else

int cli_national_fetch(void *ctx, struct db *db, const char *keys_dir, const char *uin,
                       json_t **answer, struct err *err)
{
    (void)ctx, (void)db, (void)keys_dir, (void)uin;
    *answer = NULL;
    return err_set(err, "this civreg was built without the national tier");
}

int cli_national_timeout(const struct conf *conf, long option, int *seconds, struct err *err)
{
    (void)conf;
    *seconds = (int)option;
    return 0;
}

int cmd_sync(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_without_national("sync");
}

#endif
