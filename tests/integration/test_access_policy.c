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

#include <cmocka.h>

#include "registry/registry.h"
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

/* Each command as each role: refused ("does not hold" / "may not") exactly
 * when the table leaves the role out. Ids name nothing, so an allowed call
 * fails later (not found) and changes nothing. */
static void test_cli_commands_by_role(void **state)
{
    static const struct {
        const char *action;
        const char *args[10];
    } cmds[] = {
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
        unsigned allowed = registry_action_roles(cmds[c].action);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_is_generated),
        cmocka_unit_test(test_routes_name_actions),
        cmocka_unit_test(test_cli_commands_by_role),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
