/* Command line options declared once (cli/options.c): an option a
 * subcommand does not take is refused by name (exit 2) instead of being
 * accepted and ignored; the options each subcommand accepts are exactly the
 * ones its help names; integers go through the one parser with bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/cmocka_main.h"
#include "support/support.h"

static int run(struct proc_result *r, const char *const args[])
{
    assert_int_equal(civreg_run(NULL, r, args), 0);
    return r->status;
}

static void test_option_of_another_subcommand(void **state)
{
    struct proc_result r;
    (void)state;

    assert_int_equal(run(&r, (const char *[]){ "record", "show", "HQ-R-x", "--batch", "5",
                                               NULL }), 2);
    assert_non_null(strstr(r.err, "--batch does not apply to `record show`"));
    proc_result_free(&r);
    assert_int_equal(run(&r, (const char *[]){ "record", "list", "--version", "2", NULL }), 2);
    assert_non_null(strstr(r.err, "--version does not apply to `record list`"));
    proc_result_free(&r);
    assert_int_equal(run(&r, (const char *[]){ "record", "list", "--bogus", NULL }), 2);
    assert_non_null(strstr(r.err, "unknown option"));
    proc_result_free(&r);
}

static void test_integers(void **state)
{
    static const char *const bad[] = { "0", "10001", "-1", "12x", "", "99999999999999999999",
                                       " 5", "+5", "0x10", NULL };
    struct proc_result r;
    (void)state;

    for (size_t i = 0; bad[i]; i++) {
        if (run(&r, (const char *[]){ "record", "list", "--limit", bad[i], NULL }) != 2 ||
            strstr(r.err, "--limit must be a whole number from 1 to 10000") == NULL)
            fail_msg("--limit '%s': want a usage error, got %d %s", bad[i], r.status, r.err);
        proc_result_free(&r);
    }
    /* In bounds: parsing passes, the command then wants a user. */
    assert_int_equal(run(&r, (const char *[]){ "record", "list", "--limit", "10000", "--offset",
                                               "0", NULL }), 2);
    assert_null(strstr(r.err, "--limit"));
    assert_non_null(strstr(r.err, "--user"));
    proc_result_free(&r);
}

/* Every record subcommand × every record option: accepted exactly when the
 * subcommand's help names it. */
static void test_options_match_help(void **state)
{
    static const char *const subs[] = { "draft", "verify", "register", "correct", "show",
                                        "history", "list", "import", NULL };
    static const struct {
        const char *name, *value;
    } opts[] = {
        { "--example", NULL }, { "--version", "2" },      { "--reason", "r" },
        { "--evidence", "h" }, { "--status", "draft" },   { "--limit", "5" },
        { "--offset", "5" },   { "--born-from", "2000-01-01" }, { "--born-to", "2000-01-01" },
        { "--jsonl", "f" },    { "--batch", "5" },        { "--dry-run", NULL },
    };
    struct proc_result r;
    size_t checked = 0;
    (void)state;

    for (size_t s = 0; subs[s]; s++) {
        assert_int_equal(run(&r, (const char *[]){ "help", "record", subs[s], NULL }), 0);
        char *help = r.out;
        r.out = NULL;
        proc_result_free(&r);
        for (size_t o = 0; o < sizeof opts / sizeof opts[0]; o++) {
            const char *args[8] = { "record", subs[s], "HQ-R-x", opts[o].name };
            size_t n = 4;
            if (opts[o].value)
                args[n++] = opts[o].value;
            args[n] = NULL;
            bool named = strstr(help, opts[o].name) != NULL;
            run(&r, args);
            bool refused = strstr(r.err, "does not apply") != NULL;
            if (refused == named)
                fail_msg("record %s %s: help %s it, parser %s it", subs[s], opts[o].name,
                         named ? "names" : "does not name", refused ? "refuses" : "accepts");
            if (refused)
                assert_int_equal(r.status, 2);
            proc_result_free(&r);
            checked++;
        }
        free(help);
    }
    assert_int_equal(checked, 96);
}

/* The office, chip and national commands from their tables too: an option
 * of another subcommand is refused by name (the national tier's commands
 * once accepted any of their options anywhere), and the help lists the
 * options of the subcommand it describes. */
static void test_table_families(void **state)
{
    static const struct {
        const char *args[8];
        const char *refusal;
    } cases[] = {
        { { "application", "approve", "HQ-A-x", "--reason", "r", NULL },
          "--reason does not apply to `application approve`" },
        { { "application", "list", "--uin", "1", NULL },
          "--uin does not apply to `application list`" },
        { { "document", "show", "X1", "--format", "csv", NULL },
          "--format does not apply to `document show`" },
        { { "document", "datapage", "--user", "u", NULL },
          "--user does not apply to `document datapage`" },
        { { "booklet", "report", "--first", "B1", NULL },
          "--first does not apply to `booklet report`" },
        /* the office's families share one table: document datapage's
         * --photo is not application datapage's */
        { { "application", "datapage", "HQ-A-x", "--photo", "p.jpg", NULL },
          "--photo does not apply to `application datapage`" },
        { { "chip", "emulate", "pkg", "--reader", "r", NULL },
          "--reader does not apply to `chip emulate`" },
        { { "chip", "read", "--port", "1", NULL }, "--port does not apply to `chip read`" },
        { { "national", "status", "--limit", "5", "--pg", "postgresql://127.0.0.1:9/x", NULL },
          "--limit does not apply to `national status`" },
        { { "national", "init", "--tls-key", "k", "--pg", "postgresql://127.0.0.1:9/x", NULL },
          "--tls-key does not apply to `national init`" },
    };
    struct proc_result r;
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (run(&r, cases[i].args) != 2 || strstr(r.err, cases[i].refusal) == NULL)
            fail_msg("%s %s: want \"%s\", got %d %s", cases[i].args[0], cases[i].args[1],
                     cases[i].refusal, r.status, r.err);
        proc_result_free(&r);
    }
    assert_int_equal(run(&r, (const char *[]){ "help", "application", "qc", NULL }), 0);
    assert_non_null(strstr(r.out, "--pass"));
    assert_non_null(strstr(r.out, "--fail"));
    assert_non_null(strstr(r.out, "--reason TEXT"));
    assert_null(strstr(r.out, "--uin"));
    proc_result_free(&r);
    assert_int_equal(run(&r, (const char *[]){ "help", "document", "datapage", NULL }), 0);
    assert_non_null(strstr(r.out, "\n  --photo FILE.jpg\n"));
    assert_non_null(strstr(r.out, "\n  --signature FILE\n"));
    proc_result_free(&r);
    assert_int_equal(run(&r, (const char *[]){ "national", "search", "--help", NULL }), 0);
    assert_non_null(strstr(r.out, "--limit N"));
    assert_null(strstr(r.out, "--listen"));
    proc_result_free(&r);
}

CMOCKA_MAIN(NULL, NULL, test_option_of_another_subcommand, test_integers, test_options_match_help,
            test_table_families)
