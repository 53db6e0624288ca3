#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_registry.h"
#include "core/conf.h"
#include "db/datadir.h"
#include "registry/registry.h"

static cli_run_fn user_add, user_passwd, user_disable, user_roles, user_list;

static const struct cli_command user_commands[] = {
    { "add", user_add, "create a user with roles and a signing key",
      "usage: civreg user add [--data DIR] --username U --role ROLE[,ROLE...]\n"
      "                       [--name \"FULL NAME\"] [--office CODE]\n"
      "                       [--user ADMIN [--password-file F]]\n"
      "\n"
      "Creates user U with a new Ed25519 signing key sealed under U's password\n"
      "(Argon2id), and logs the public key. ROLEs: clerk, registrar,\n"
      "enrolment_officer, approver, issuance_operator, auditor, admin; admin is\n"
      "never combined with another role (separation of duties). CODE defaults to\n"
      "this data directory's office. U is 2 to 32 characters a-z 0-9 . _ -.\n"
      "FULL NAME (1 to 100 characters, e.g. \"Amina Otieno\") is signed with the\n"
      "account in the log (user.add) and shown to people beside U.\n"
      "Passwords: at least 12 characters, not a common password or one built on\n"
      "a common word, not containing the user name.\n"
      "\n"
      "The first user of a data directory must be an admin and needs no --user;\n"
      "later users are added by an admin (--user). Passwords are never taken\n"
      "from the command line: the admin's comes from --password-file or the\n"
      "first line of stdin, then U's new password from the next line of stdin\n"
      "(or prompts on a terminal).\n" },
    { "passwd", user_passwd, "change a user's password",
      "usage: civreg user passwd [--data DIR] --username U\n"
      "       civreg user passwd [--data DIR] --username U --user ADMIN [--password-file F]\n"
      "\n"
      "Reads U's current password, then the new one (two lines of stdin, or\n"
      "terminal prompts), and seals U's signing key under the new password.\n"
      "\n"
      "With --user, an admin resets a forgotten password: U gets a new signing key\n"
      "sealed under the new password (read after the admin's), and the new public\n"
      "key is logged; what U signed before stays verifiable.\n" },
    { "disable", user_disable, "disable a user (admin)",
      "usage: civreg user disable [--data DIR] --username U --user ADMIN [--password-file F]\n"
      "\n"
      "U can no longer sign in, and U's open web sessions end at their next\n"
      "request; everything U signed stays verifiable.\n" },
    { "roles", user_roles, "set a user's roles (admin)",
      "usage: civreg user roles [--data DIR] --username U --role ROLE[,ROLE...] --user ADMIN\n"
      "                         [--password-file F]\n"
      "\n"
      "Replaces U's roles (logged as user.roles, signed by the admin). U's open\n"
      "web sessions end at their next request. An admin cannot change their own\n"
      "roles, and admin is never combined with another role.\n" },
    { "list", user_list, "list users (admin or auditor)",
      "usage: civreg user list [--data DIR] --user U [--password-file F]\n"
      "\n"
      "Prints the users as JSON: username, office, roles, public key, disabled.\n" },
    { NULL, NULL, NULL, NULL },
};

struct user_opts {
    struct cli_common_opts common;
    const char *username, *role, *office, *name;
};

static const struct cli_opt user_options[] = {
    CLI_OPT_STR("username", struct user_opts, username, "add passwd disable roles", "U"),
    CLI_OPT_STR("role", struct user_opts, role, "add roles", "ROLE[,ROLE...]"),
    CLI_OPT_STR("office", struct user_opts, office, "add", "CODE"),
    CLI_OPT_STR("name", struct user_opts, name, "add", "FULL NAME"),
    CLI_OPT_END,
};

static const struct cli_family user_family = { "user", user_commands, user_options, "*", "*" };

int cmd_user(int argc, char **argv)
{
    return cli_family_dispatch(&user_family, argc, argv);
}

#define PARSE(name)                                                                                \
    do {                                                                                           \
        int prc_ = cli_parse(&user_family, name, &o, argc, argv, 0, 0, NULL);                      \
        if (prc_ != CLI_GO)                                                                        \
            return prc_;                                                                           \
    } while (0)

/* The options of a command that sets roles, with the roles parsed. */
struct roles_opts {
    struct user_opts o;
    unsigned roles;
};

static int do_add(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    const struct roles_opts *a = opts;
    struct registry_user_new u = { 0 };
    char *pw = NULL;
    int rc = -1;

    (void)out;
    u.roles = a->roles;
    u.username = a->o.username;
    u.name = a->o.name;
    u.office = a->o.office ? a->o.office : conf_get(s->dd->conf, "office", DATADIR_DEFAULT_OFFICE);
    if (cli_new_password("new user's password: ", &pw, err) == 0) {
        u.password = pw;
        if (registry_user_add(s->db, s->dd->keys_dir, s->actor, &u, err) == 0) {
            printf("added user %s (office %s)\n", u.username, u.office);
            rc = 0;
        }
    }
    cli_password_free(pw);
    return rc;
}

/* Parse `user SUB` (add, roles) into R: --username and --role required, the
 * roles checked. Returns CLI_GO, or the exit code. */
static int parse_roles(const char *sub, int argc, char **argv, struct roles_opts *r)
{
    struct err err = ERR_INIT;
    char cmd[32];
    int rc;

    memset(r, 0, sizeof *r);
    if ((rc = cli_parse(&user_family, sub, &r->o, argc, argv, 0, 0, NULL)) != CLI_GO)
        return rc;
    /* cannot truncate: SUB is a short constant */
    (void)snprintf(cmd, sizeof cmd, "user %s", sub);
    if (r->o.username == NULL || r->o.role == NULL)
        return cli_usage_error(cmd, "--username and --role are required");
    if (registry_roles_parse(r->o.role, &r->roles, &err) != 0)
        return cli_usage_error(cmd, "%s", err_msg(&err));
    return CLI_GO;
}

static int user_add(int argc, char **argv)
{
    struct roles_opts a;
    int rc = parse_roles("add", argc, argv, &a);

    return rc != CLI_GO ? rc : cli_run_session("user add", &a.o.common, false, do_add, &a);
}

static int do_passwd(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    const struct user_opts *o = opts;
    char *old = NULL, *new = NULL;
    int rc = -1;

    (void)out;
    if (s->actor) {
        /* an administrator resets another user's password */
        if (cli_new_password("new password: ", &new, err) == 0 &&
            registry_user_reset(s->db, s->actor, o->username, new, err) == 0) {
            printf("password of %s reset; new signing key logged\n", o->username);
            rc = 0;
        }
    } else if (cli_password("current password: ", NULL, &old, err) == 0 &&
               cli_new_password("new password: ", &new, err) == 0 &&
               registry_user_passwd(s->db, s->dd->keys_dir, o->username, old, new, err) == 0) {
        printf("password of %s changed\n", o->username);
        rc = 0;
    }
    cli_password_free(old);
    cli_password_free(new);
    return rc;
}

static int user_passwd(int argc, char **argv)
{
    struct user_opts o = { 0 };

    PARSE("passwd");
    if (o.username == NULL)
        return cli_usage_error("user passwd", "--username is required");
    return cli_run_session("user passwd", &o.common, false, do_passwd, &o);
}

static int do_disable(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    const struct user_opts *o = opts;

    (void)out;
    if (registry_user_disable(s->db, s->actor, o->username, err) != 0)
        return -1;
    printf("disabled user %s\n", o->username);
    return 0;
}

static int user_disable(int argc, char **argv)
{
    struct user_opts o = { 0 };

    PARSE("disable");
    if (o.username == NULL)
        return cli_usage_error("user disable", "--username is required");
    return cli_run_signed("user disable", &o.common, do_disable, &o);
}

static int do_roles(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    const struct roles_opts *r = opts;

    (void)out;
    if (registry_user_roles(s->db, s->actor, r->o.username, r->roles, err) != 0)
        return -1;
    printf("roles of %s set to %s\n", r->o.username, r->o.role);
    return 0;
}

static int user_roles(int argc, char **argv)
{
    struct roles_opts r;
    int rc = parse_roles("roles", argc, argv, &r);

    return rc != CLI_GO ? rc : cli_run_signed("user roles", &r.o.common, do_roles, &r);
}

static int do_list(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    (void)opts;
    return registry_user_list(s->db, s->actor, out, err);
}

static int user_list(int argc, char **argv)
{
    struct user_opts o = { 0 };

    PARSE("list");
    return cli_run_signed("user list", &o.common, do_list, &o);
}
