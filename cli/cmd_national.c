/* civreg national ...: the national tier's commands (init, office-add,
 * fork-clear, serve, status, search, duplicates, trace). Each parses its options and
 * calls one function of registry/national/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/json.h"

#ifdef CIVREG_HAVE_NATIONAL
#include "db/pg.h"
#include "registry/national/national.h"
#include "web/web.h"

struct nat_opts {
    struct cli_common_opts common;
    const char *pg, *office, *key, *listen, *out, *tls_cert, *tls_key, *by, *reason;
    bool insecure_loopback;
    long threads, limit;
    const char *arg;
};

#define NAT_STR(name, field, subs, arg) CLI_OPT_STR(name, struct nat_opts, field, subs, arg)
static const struct cli_opt national_options[] = {
    NAT_STR("pg", pg, NULL, "URL"),
    NAT_STR("office", office, "office-add", "CODE"),
    NAT_STR("by", by, "fork-clear", "NAME"),
    NAT_STR("reason", reason, "fork-clear", "TEXT"),
    NAT_STR("key", key, "office-add", "HEX"),
    NAT_STR("listen", listen, "serve", "ADDR:PORT"),
    CLI_OPT_INT("threads", struct nat_opts, threads, 1, 256, "serve"),
    NAT_STR("tls-cert", tls_cert, "serve", "FILE"),
    NAT_STR("tls-key", tls_key, "serve", "FILE"),
    CLI_OPT_FLAG("insecure-loopback", struct nat_opts, insecure_loopback, "serve"),
    CLI_OPT_INT("limit", struct nat_opts, limit, 1, 1000, "search"),
    NAT_STR("out", out, "status search duplicates trace", "FILE"),
    CLI_OPT_END,
};

static const struct cli_family national_family; /* below its commands */

/* Parse `national NAME` into O: --pg (or CIVREG_NATIONAL_PG) is required,
 * and WANT_ARG one positional argument. Returns CLI_GO, or the exit code. */
static int parse(const char *name, int argc, char **argv, bool want_arg, struct nat_opts *o)
{
    char cmd[48];
    int rc;

    memset(o, 0, sizeof *o);
    o->listen = "127.0.0.1:8090";
    rc = cli_parse(&national_family, name, o, argc, argv, want_arg ? 1 : 0, want_arg ? 1 : 0,
                   "one argument");
    if (rc != CLI_GO)
        return rc;
    /* cannot truncate: NAME is a short constant */
    (void)snprintf(cmd, sizeof cmd, "national %s", name);
    if (o->pg == NULL)
        o->pg = getenv("CIVREG_NATIONAL_PG");
    if (o->pg == NULL)
        return cli_usage_error(cmd, "--pg URL is required (or CIVREG_NATIONAL_PG)");
    o->arg = want_arg ? o->common.args[0] : NULL;
    return CLI_GO;
}

static int print_json(const json_t *v)
{
    struct buf b = BUF_INIT((size_t)1 << 30);
    struct err err = ERR_INIT;

    if (json_dump_compact(v, &b, &err) != 0)
        return -1;
    fwrite(b.data, 1, b.len, stdout);
    putchar('\n');
    buf_release(&b);
    return 0;
}

#define PARSE(name, want)                                                                      \
    struct nat_opts o;                                                                         \
    int prc = parse(name, argc, argv, want, &o);                                               \
    if (prc != CLI_GO)                                                                         \
        return prc;

static int n_init(int argc, char **argv)
{
    struct err err = ERR_INIT;
    int v = 0;
    PARSE("init", false);
    if (national_init(o.pg, &v, &err) != 0)
        return cli_fail("national init", &err);
    printf("national schema version %d\n", v);
    return EXIT_OK;
}

static int with_pg(const char *cmd, const char *url, struct pg **pg)
{
    struct err err = ERR_INIT;
    if (pg_open(url, pg, &err) != 0)
        return cli_fail(cmd, &err);
    return 0;
}

/* Open the database of O, run FN, close: the exit code. */
static int pg_command(const char *cmd, const struct nat_opts *o,
                      int (*fn)(struct pg *pg, const struct nat_opts *o, struct err *err))
{
    struct err err = ERR_INIT;
    struct pg *pg = NULL;
    int rc = with_pg(cmd, o->pg, &pg);

    if (rc != 0)
        return rc;
    rc = fn(pg, o, &err) == 0 ? EXIT_OK : cli_fail(cmd, &err);
    pg_close(pg);
    return rc;
}

static int office_add(struct pg *pg, const struct nat_opts *o, struct err *err)
{
    if (national_office_add(pg, o->office, o->key, err) != 0)
        return -1;
    printf("office %s registered\n", o->office);
    return 0;
}

static int fork_clear(struct pg *pg, const struct nat_opts *o, struct err *err)
{
    long n = 0;

    if (national_fork_clear(pg, o->arg, o->by, o->reason, &n, err) != 0)
        return -1;
    printf("office %s: fork alarm cleared (%ld fork%s kept as evidence)\n", o->arg, n,
           n == 1 ? "" : "s");
    return 0;
}

/* office-add and fork-clear: the options each requires, then one write. */
static int n_write(int argc, char **argv)
{
    bool clear = strcmp(argv[0], "fork-clear") == 0;
    const char *cmd = clear ? "national fork-clear" : "national office-add";
    PARSE(clear ? "fork-clear" : "office-add", clear);
    if (clear ? (o.by == NULL || o.reason == NULL) : (o.office == NULL || o.key == NULL))
        return cli_usage_error(cmd, "%s", clear ? "--by NAME and --reason TEXT are required"
                                                : "--office CODE and --key HEX are required");
    return pg_command(cmd, &o, clear ? fork_clear : office_add);
}

static void ready(void *ctx, int port)
{
    printf("civreg national: listening on %s://127.0.0.1:%d/\n", ctx ? "https" : "http", port);
    fflush(stdout);
}

static int n_serve(int argc, char **argv)
{
    struct err err = ERR_INIT;
    struct national_serve_opts so = { 0 };
    PARSE("serve", false);
    so.pg_url = o.pg;
    so.listen = o.listen;
    so.threads = (int)o.threads;
    so.ready = ready;
    so.tls_cert = o.tls_cert;
    so.tls_key = o.tls_key;
    so.insecure_loopback = o.insecure_loopback;
    so.tls_check = web_tls_usable;
    so.ctx = o.tls_cert ? (void *)&so : NULL;
    if ((o.tls_cert == NULL) != (o.tls_key == NULL))
        return cli_usage_error("national serve", "--tls-cert and --tls-key go together");
    if (national_serve(&so, &err) != 0)
        return cli_fail("national serve", &err);
    return EXIT_OK;
}

/* The read-only queries differ only by data: the subcommand, whether it
 * takes an argument, the national call. */
static const char *const query_subs[] = { "status", "search", "duplicates", "trace" };

static int query(struct pg *pg, int what, const struct nat_opts *o, json_t **out,
                 struct err *err)
{
    switch (what) {
    case 0: return national_status(pg, out, err);
    case 1: return national_search(pg, o->arg, (int)o->limit, out, err);
    case 2: return national_duplicates(pg, out, err);
    default: return national_person(pg, o->arg, out, err) == NATIONAL_OK ? 0 : -1;
    }
}

static int n_query(int argc, char **argv)
{
    int what = CLI_SUB_INDEX(query_subs, argv[0]);
    struct err err = ERR_INIT;
    struct pg *pg = NULL;
    json_t *out = NULL;
    char cmd[48];
    int rc;

    if (what < 0)
        return cli_usage_error("national", "unknown command '%s'", argv[0]);
    PARSE(query_subs[what], what == 1 || what == 3);
    /* cannot truncate: QUERY_SUBS are short constants */
    (void)snprintf(cmd, sizeof cmd, "national %s", query_subs[what]);
    if ((rc = with_pg(cmd, o.pg, &pg)) != 0)
        return rc;
    if (query(pg, what, &o, &out, &err) != 0) {
        rc = cli_fail(cmd, &err);
    } else if (o.out) {
        struct buf b = BUF_INIT((size_t)1 << 30);
        rc = (json_dump_compact(out, &b, &err) == 0 && cli_write_file(o.out, b.data, b.len, &err) == 0)
                 ? EXIT_OK
                 : cli_fail(cmd, &err);
        buf_release(&b);
    } else {
        rc = print_json(out) == 0 ? EXIT_OK : EXIT_FAIL;
    }
    json_decref(out);
    pg_close(pg);
    return rc;
}

static const struct cli_command national_commands[] = {
    { "init", n_init, "create or upgrade the national schema",
      "usage: civreg national init --pg URL\n"
      "\n"
      "Applies the numbered migrations of db/national/ to the PostgreSQL 15\n"
      "database URL (libpq URI); each in its own transaction.\n" },
    { "office-add", n_write, "register a district office and its log key",
      "usage: civreg national office-add --pg URL --office CODE --key HEX\n"
      "\n"
      "HEX is the office public key `civreg audit head` prints at the district.\n"
      "A registered office's key is never replaced.\n" },
    { "fork-clear", n_write, "clear an office's fork alarm (kept as evidence)",
      "usage: civreg national fork-clear OFFICE --pg URL --by NAME --reason TEXT\n"
      "\n"
      "After the district restored the history the national tier accepted (its\n"
      "backup), lets its pushes through again. The fork rows stay, with NAME,\n"
      "the time and TEXT; the accepted head is unchanged, so a district still\n"
      "on the rewritten history is refused again and raises a new alarm.\n" },
    { "serve", n_serve, "the HTTP service districts push to",
      "usage: civreg national serve --pg URL --tls-cert FILE --tls-key FILE\n"
      "                             [--listen ADDR:PORT] [--threads N]\n"
      "       civreg national serve --pg URL --insecure-loopback [--listen 127.0.0.1:PORT]\n"
      "\n"
      "HTTPS (TLS 1.2+) on ADDR:PORT (default 127.0.0.1:8090, port 0 picks one)\n"
      "with the PEM certificate chain and key; plain HTTP only with\n"
      "--insecure-loopback and a loopback address (tests, a proxy on the host).\n"
      "Every request is signed by a registered office's key. Stops on\n"
      "SIGINT/SIGTERM.\n" },
    { "status", n_query, "each office's last head, lag and fork alarms (JSON)",
      "usage: civreg national status --pg URL\n" },
    { "search", n_query, "search birth records of every office by name (JSON)",
      "usage: civreg national search --pg URL [--limit N] NAME\n" },
    { "duplicates", n_query, "cross-district duplicate cases (JSON)",
      "usage: civreg national duplicates --pg URL\n" },
    { "trace", n_query, "a UIN's district events with inclusion proofs (bundle)",
      "usage: civreg national trace UIN --pg URL [--out FILE]\n"
      "\n"
      "Writes a civreg.bundle.v1 (the office's signed tree head, the events of\n"
      "the person and record with RFC 6962 inclusion proofs, the record\n"
      "versions and the link): `civreg audit verify-bundle FILE --office-key\n"
      "HEX` checks it offline.\n" },
    { NULL, NULL, NULL, NULL },
};

/* The national tier signs in with its own credentials: no session options. */
static const struct cli_family national_family = { "national", national_commands,
                                                   national_options, NULL, NULL };

int cmd_national(int argc, char **argv)
{
    return cli_family_dispatch(&national_family, argc, argv);
}

#else

int cmd_national(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_without_national("national");
}

#endif
