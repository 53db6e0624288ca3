/* The access policy (registry/access.c) is the one table of who may do
 * what: docs/access.md is generated from it; every web route names one of
 * its actions; every command line check below refuses exactly the roles the
 * table leaves out (each command is run as a user of each role). The web
 * route × role matrix against the same table is test_web_access. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry/registry.h"
#include "support/cmocka_main.h"
#include "support/support.h"
#include "web/web.h"
#include "web/web_int.h"

static char *root;
static char data[4096];

static const struct {
    const char *name;
    unsigned role;
} roles[] = {
    { "clerk", ROLE_CLERK },       { "registrar", ROLE_REGISTRAR },
    { "enrolment_officer", ROLE_ENROLMENT_OFFICER }, { "approver", ROLE_APPROVER },
    { "issuance_operator", ROLE_ISSUANCE_OPERATOR }, { "auditor", ROLE_AUDITOR },
    { "admin", ROLE_ADMIN },
};
#define NROLES (sizeof roles / sizeof roles[0])

static void pw_path(char *out, size_t size, const char *user)
{
    snprintf(out, size, "%s/%s.pw", root, user);
}

static int setup(void **state)
{
    char pw[4200], admin_pw[4200], line[128];
    (void)state;

    if ((root = tmp_data_dir("access-policy", data, sizeof data, NULL)) == NULL)
        return -1;
    pw_path(admin_pw, sizeof admin_pw, "admin");
    /* The admin first (password on stdin), then one user per role. */
    for (size_t i = NROLES; i-- > 0;) {
        snprintf(line, sizeof line, "policy-tundra-ferns-%zu-%s", i, "quiet");
        if (pw_file(root, roles[i].name, line, pw, sizeof pw) != 0)
            return -1;
        civreg_user_add(data, roles[i].name, roles[i].name, line,
                        roles[i].role == ROLE_ADMIN ? NULL : admin_pw);
    }
    return 0;
}

TMP_DIR_TEARDOWN(root)

/* docs/access.md ends with exactly what `civreg access` prints. */
static void test_doc_is_generated(void **state)
{
    struct proc_result r;
    size_t len;
    (void)state;

    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "access", NULL }), 0);
    assert_int_equal(r.status, 0);
    char *doc = file_read(CIVREG_SOURCE_DIR "/docs/access.md", &len);
    assert_non_null(doc);
    if (len < r.out_len || memcmp(doc + len - r.out_len, r.out, r.out_len) != 0)
        fail_msg("docs/access.md differs from `civreg access`: regenerate it");
    char *md = registry_access_markdown();
    assert_string_equal(md, r.out);
    free(md);
    free(doc);
    proc_result_free(&r);
}

/* Every route names an action of the table (or none: public), and the roles
 * it lets in are the table's. */
static void test_routes_name_actions(void **state)
{
    size_t n = 0;
    (void)state;

    for (const struct web_route *rt = web_routes; rt->method != NULL; rt++, n++) {
        if (rt->action == NULL) {
            assert_int_equal(web_route_roles(rt), WEB_PUBLIC);
            continue;
        }
        unsigned want = registry_action_roles(rt->action);
        if (want == 0)
            fail_msg("%s %s names '%s', not in the access policy", rt->method, rt->path,
                     rt->action);
        assert_int_equal(web_route_roles(rt), want);
        for (size_t i = 0; i < NROLES; i++)
            assert_int_equal(registry_roles_may(roles[i].role, rt->action),
                             (want & roles[i].role) != 0);
    }
    assert_true(n > 20);
    /* Admin reads no personal data; the auditor changes nothing. */
    static const char *const personal[] = { "record.read", "person.read", "audit.trace",
                                             "record.duplicates", "death.read",
                                             "application.read", "document.read", NULL };
    for (size_t i = 0; personal[i]; i++)
        assert_false(registry_roles_may(ROLE_ADMIN, personal[i]));
    static const char *const writes[] = { "record.draft", "record.verify", "record.register",
                                          "record.correct", "user.manage", "application.enrol",
                                          "application.approve", "booklet.manage", NULL };
    for (size_t i = 0; writes[i]; i++)
        assert_false(registry_roles_may(ROLE_AUDITOR, writes[i]));
}

/* A command line of the tables below: what it is named by (an access
 * action, or the command as cli/actions.c names it) and its arguments. */
struct cli_case {
    const char *name;
    const char *args[14];
};

/* Each command as each role: refused ("does not hold" / "may not") exactly
 * when the table leaves the role out. Ids name nothing, so an allowed call
 * fails later (not found) and changes nothing. */
static void test_cli_commands_by_role(void **state)
{
    static const struct cli_case cmds[] = {
        { "record.read", { "record", "list" } },
        { "record.read", { "record", "show", "HQ-R-nobody" } },
        { "record.read", { "record", "history", "HQ-R-nobody" } },
        { "record.read", { "search", "anna" } },
        { "record.register", { "record", "register", "HQ-R-nobody" } },
        { "record.duplicates", { "duplicates", "list" } },
        { "search.reindex", { "search", "--reindex" } },
        { "user.list", { "user", "list" } },
        { "user.manage", { "user", "disable", "--username", "nobody-here" } },
        { "audit.trace", { "audit", "trace", "HQ-R-nobody" } },
        { "extract.issue", { "extract", "issue", "HQ-R-nobody", "--out", "/nonexistent/x.pdf" } },
        { "booklet.manage", { "booklet", "spoil", "AB1234", "--reason", "torn" } },
        { "application.approve", { "application", "approve", "HQ-A-nobody" } },
        { "document.revoke",
          { "document", "status", "X0000000", "--status", "revoked", "--reason", "test" } },
    };
    size_t checked = 0;
    (void)state;

    for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
        unsigned allowed = registry_action_roles(cmds[c].name);
        assert_true(allowed != 0);
        for (size_t i = 0; i < NROLES; i++) {
            const char *const *argv = cmds[c].args;
            struct proc_result r;

            assert_int_equal(civreg_run_as(data, root, roles[i].name, NULL, &r, argv), 0);
            bool refused = strstr(r.err, "does not hold the") != NULL ||
                           strstr(r.err, " may not ") != NULL;
            if (refused != !(allowed & roles[i].role))
                fail_msg("civreg %s %s as %s: want %s, got exit %d: %s", argv[0], argv[1],
                         roles[i].name, refused ? "access" : "a refusal", r.status, r.err);
            if (refused)
                assert_int_equal(r.status, 1);
            proc_result_free(&r);
            checked++;
        }
    }
    assert_true(checked >= 90);
}

/* The command line's one table (cli/actions.c, printed by `civreg access
 * --commands`): every command that names an action, run as every role, is
 * refused with exit 1 and "ACTION: refused: user 'ROLE'" exactly when the
 * policy leaves the role out, and gets past that check otherwise. Ids name
 * nothing, so an allowed call fails later and changes nothing (but the
 * admin's `pki init` creates the PKI the later PKI and chip commands open).
 * A command of the table this test has no arguments for fails the test. */
static const struct cli_case every[] = {
    { "record draft", { "record", "draft" } },
    { "record verify", { "record", "verify", "HQ-R-nobody" } },
    { "record register", { "record", "register", "HQ-R-nobody" } },
    { "record correct", { "record", "correct", "HQ-R-nobody", "--reason", "r" } },
    { "record show", { "record", "show", "HQ-R-nobody" } },
    { "record history", { "record", "history", "HQ-R-nobody" } },
    { "record list", { "record", "list" } },
    { "record import", { "record", "import", "--jsonl", "/nonexistent/x.jsonl" } },
    { "search", { "search", "anna" } },
    { "search --reindex", { "search", "--reindex" } },
    { "duplicates list", { "duplicates", "list" } },
    { "duplicates resolve",
      { "duplicates", "resolve", "HQ-R-a", "HQ-R-b", "--same", "--reason", "r" } },
    { "person show", { "person", "show", "0000000000" } },
    { "death register", { "death", "register", "0000000000", "--json" } },
    { "death show", { "death", "show", "0000000000" } },
    { "extract issue", { "extract", "issue", "HQ-R-nobody", "--out", "/nonexistent/x.pdf" } },
    { "evidence add", { "evidence", "add", "/nonexistent/x.png" } },
    { "user add", { "user", "add", "--username", "nobody-new", "--role", "clerk" } },
    { "user passwd", { "user", "passwd", "--username", "nobody-here" } },
    { "user disable", { "user", "disable", "--username", "nobody-here" } },
    { "user roles", { "user", "roles", "--username", "nobody-here", "--role", "clerk" } },
    { "user list", { "user", "list" } },
    { "audit trace", { "audit", "trace", "HQ-R-nobody" } },
    { "audit export", { "audit", "export", "HQ-R-nobody", "--out", "/nonexistent/x.json" } },
    { "scan import", { "scan", "import", "@blank" } },
    { "application enrol",
      { "application", "enrol", "--uin", "0000000000", "--photo", "@blank" } },
    { "application approve", { "application", "approve", "HQ-A-nobody" } },
    { "application reject", { "application", "reject", "HQ-A-nobody", "--reason", "r" } },
    { "application personalize", { "application", "personalize", "HQ-A-nobody" } },
    { "application qc", { "application", "qc", "HQ-A-nobody", "--pass" } },
    { "application issue", { "application", "issue", "HQ-A-nobody" } },
    { "application collect", { "application", "collect", "HQ-A-nobody" } },
    { "application show", { "application", "show", "HQ-A-nobody" } },
    { "application list", { "application", "list" } },
    { "application datapage",
      { "application", "datapage", "HQ-A-nobody", "--out", "/nonexistent/x.pdf" } },
    { "application chip", { "application", "chip", "HQ-A-nobody", "--out", "/nonexistent/x" } },
    { "document status",
      { "document", "status", "X0000000", "--status", "lost", "--reason", "r" } },
    { "document show", { "document", "show", "X0000000" } },
    { "document expire", { "document", "expire" } },
    { "document alerts", { "document", "alerts", "--out", "/nonexistent/x.csv" } },
    { "document trace", { "document", "trace", "X0000000" } },
    { "document series", { "document", "series" } },
    { "document series --pattern",
      { "document", "series", "--type", "XX", "--pattern", "!" } },
    { "booklet receive",
      { "booklet", "receive", "--type", "XX", "--first", "B", "--last", "A", "--reference",
        "r" } },
    { "booklet spoil", { "booklet", "spoil", "AB1234", "--reason", "torn" } },
    { "booklet report", { "booklet", "report" } },
    { "booklet show", { "booklet", "show", "AB1234" } },
    { "pki init", { "pki", "init", "--country", "UTO" } },
    { "pki rollover", { "pki", "rollover" } },
    { "pki issue-ds", { "pki", "issue-ds" } },
    { "pki issue-barcode-signer", { "pki", "issue-barcode-signer" } },
    { "pki revoke", { "pki", "revoke", "nonexistent-serial" } },
    { "pki crl", { "pki", "crl", "--days", "1" } },
    { "pki export", { "pki", "export", "csca" } },
    { "sync resolve",
      { "sync", "resolve", "1", "--same", "--reason", "r", "--national", "http://127.0.0.1:9" } },
    { "chip personalize",
      { "chip", "personalize", "--out", "@chipout", "--photo", "@blank", "--mrz-lines",
        "@blank" } },
};

/* Run ARGS as ROLE; 0 when the outcome matches the table, else prints why. */
static int run_as(const char *command, const char *action, const char *const *args, size_t role)
{
    const char *argv[24];
    char pw[4200], blank[4200], chipout[4200], words[64], want[160];
    struct proc_result r;
    size_t n = 0, i;
    bool allowed = registry_roles_may(roles[role].role, action), refused;
    int bad = 0;

    snprintf(blank, sizeof blank, "%s/blank.bin", root);
    /* a folder of its own per role: the package is written there */
    snprintf(chipout, sizeof chipout, "%s/chip-%s", root, roles[role].name);
    for (; args[n] != NULL; n++)
        argv[n] = strcmp(args[n], "@blank") == 0     ? blank
                  : strcmp(args[n], "@chipout") == 0 ? chipout
                                                     : args[n];
    pw_path(pw, sizeof pw, roles[role].name);
    argv[n++] = "--data";
    argv[n++] = data;
    argv[n++] = "--user";
    argv[n++] = roles[role].name;
    argv[n++] = "--password-file";
    argv[n++] = pw;
    argv[n] = NULL;
    for (i = 0; action[i] && i + 1 < sizeof words; i++)
        words[i] = action[i] == '.' ? ' ' : action[i];
    words[i] = '\0';
    snprintf(want, sizeof want, "%s: refused: user '%s' does not hold", words, roles[role].name);
    if (civreg_run(NULL, &r, argv) != 0)
        return fprintf(stderr, "%s as %s: cannot run\n", command, roles[role].name), 1;
    refused = strstr(r.err, want) != NULL;
    if (refused == allowed || (refused && r.status != 1)) {
        fprintf(stderr, "civreg %s as %s (%s): want %s, got exit %d: %s\n", command,
                roles[role].name, action, allowed ? "past the check" : "a refusal", r.status,
                r.err);
        bad = 1;
    }
    proc_result_free(&r);
    return bad;
}

static void test_cli_every_command_by_role(void **state)
{
    struct proc_result r;
    size_t checked = 0, commands = 0;
    int failures = 0;
    (void)state;

    char blank[4200];
    snprintf(blank, sizeof blank, "%s/blank.bin", root);
    assert_int_equal(file_write(blank, "not an image\n", 13), 0);
    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "access", "--commands", NULL }), 0);
    assert_int_equal(r.status, 0);
    /* Each line: COMMAND TAB ACTION|- */
    for (char *line = r.out, *next; line && *line; line = next) {
        char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');
        size_t c;
        assert_non_null(tab);
        assert_non_null(nl);
        *tab = '\0';
        *nl = '\0';
        next = nl + 1;
        if (strcmp(tab + 1, "-") == 0)
            continue;
        if (registry_action_roles(tab + 1) == 0)
            fail_msg("`%s` names '%s', not in the access policy", line, tab + 1);
        for (c = 0; c < sizeof every / sizeof every[0]; c++)
            if (strcmp(every[c].name, line) == 0)
                break;
        if (c == sizeof every / sizeof every[0])
            fail_msg("`%s` (%s) has no arguments in this test", line, tab + 1);
        commands++;
        /* The roles run side by side: each is a sign-in (Argon2id). */
        pid_t pids[NROLES];
        for (size_t i = 0; i < NROLES; i++) {
            pids[i] = fork();
            assert_true(pids[i] >= 0);
            if (pids[i] == 0)
                _exit(run_as(line, tab + 1, every[c].args, i));
        }
        for (size_t i = 0; i < NROLES; i++) {
            int st = 0;
            assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                failures++;
            checked++;
        }
    }
    proc_result_free(&r);
    assert_int_equal(commands, sizeof every / sizeof every[0]);
    assert_int_equal(checked, commands * NROLES);
    assert_int_equal(failures, 0);
}

CMOCKA_MAIN(setup, teardown, test_doc_is_generated, test_routes_name_actions,
            test_cli_commands_by_role, test_cli_every_command_by_role)
