#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "db/datadir.h"
#include "db/db.h"

static cli_run_fn db_check_cmd, db_migrate_cmd;

static const struct cli_command db_commands[] = {
    { "check", db_check_cmd, "check integrity, foreign keys and migrations",
      "usage: civreg db check [--data DIR]\n"
      "\n"
      "Runs SQLite's integrity_check and foreign_key_check on DIR/civreg.db and\n"
      "compares its recorded migrations with those built into this civreg.\n"
      "Prints one line per problem. Exit 0 when healthy, 1 when any problem\n"
      "is found or the file is not a database.\n" },
    { "migrate", db_migrate_cmd, "apply pending schema migrations",
      "usage: civreg db migrate [--data DIR]\n"
      "\n"
      "Applies every migration this civreg knows and DIR/civreg.db lacks, each\n"
      "in its own transaction. Refuses a database newer than this civreg.\n" },
    { NULL, NULL, NULL, NULL },
};

/* db subcommands take only --data. */
static const struct cli_family db_family = { "db", db_commands, NULL, "*", NULL };

int cmd_db(int argc, char **argv)
{
    return cli_family_dispatch(&db_family, argc, argv);
}

static int parse_data_only(const char *name, int argc, char **argv, const char **data)
{
    struct cli_common_opts o = { 0 };
    int rc = cli_parse(&db_family, name, &o, argc, argv, 0, 0, NULL);

    *data = cli_data_dir(o.data);
    return rc;
}

static void print_problem(void *ctx, const char *problem)
{
    const char *path = ctx;
    printf("%s: %s\n", path, problem);
}

static int db_check_cmd(int argc, char **argv)
{
    struct datadir *dd = NULL;
    struct db *db = NULL;
    struct err err = ERR_INIT;
    const char *data;
    int problems, rc;

    if ((rc = parse_data_only("check", argc, argv, &data)) != CLI_GO)
        return rc;
    if (datadir_open(data, &dd, &err) != 0)
        return cli_fail("db check", &err);
    if (datadir_db_open(dd, DB_OPEN_CHECK, &db, &err) != 0) {
        printf("%s: cannot be opened as a database: %s\n", dd->db_path, err_msg(&err));
        fprintf(stderr, "civreg db check: 1 problem found (restore the database from a backup)\n");
        datadir_free(dd);
        return EXIT_FAIL;
    }
    problems = db_check(db, print_problem, dd->db_path, &err);
    db_close(db);
    if (problems < 0) {
        rc = cli_fail("db check", &err);
    } else if (problems > 0) {
        fprintf(stderr, "civreg db check: %d problem%s found in %s\n", problems,
                problems == 1 ? "" : "s", dd->db_path);
        rc = EXIT_FAIL;
    } else {
        printf("%s: ok (schema version %d)\n", dd->db_path, db_schema_latest());
        rc = EXIT_OK;
    }
    datadir_free(dd);
    return rc;
}

static int db_migrate_cmd(int argc, char **argv)
{
    struct datadir *dd = NULL;
    struct db *db = NULL;
    struct err err = ERR_INIT;
    const char *data;
    int rc, version = 0;

    if ((rc = parse_data_only("migrate", argc, argv, &data)) != CLI_GO)
        return rc;
    if (datadir_open(data, &dd, &err) != 0)
        return cli_fail("db migrate", &err);
    if (datadir_db_open(dd, DB_OPEN_MIGRATE, &db, &err) != 0 ||
        db_schema_version(db, &version, &err) != 0) {
        rc = cli_fail("db migrate", &err);
    } else {
        printf("%s: schema version %d\n", dd->db_path, version);
        rc = EXIT_OK;
    }
    db_close(db);
    datadir_free(dd);
    return rc;
}
