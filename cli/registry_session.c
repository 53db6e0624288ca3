#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "cli_registry.h"
#include "core/json.h"
#include "core/secret.h"
#include "db/datadir.h"
#include "db/db.h"
#include "registry/registry.h"

#define STDIN_MAX ((size_t)16 << 20)
#define PASSWORD_LINE_MAX 1024

static struct {
    char *data;
    size_t len, pos;
    bool loaded;
} in;

static int stdin_load(struct err *err)
{
    struct buf b = BUF_INIT(STDIN_MAX);
    char chunk[65536];
    size_t n;

    if (in.loaded)
        return 0;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        if (buf_append(&b, chunk, n) != 0)
            return err_set(err, "stdin: more than %zu bytes", STDIN_MAX);
    if (ferror(stdin)) {
        buf_release(&b);
        return err_set(err, "stdin: %s", strerror(errno));
    }
    in.data = (char *)buf_detach(&b, &in.len);
    if (in.data == NULL)
        return err_set(err, "out of memory");
    in.loaded = true;
    return 0;
}

int cli_stdin_rest(const char **p, size_t *len, struct err *err)
{
    if (stdin_load(err) != 0)
        return -1;
    *p = in.data + in.pos;
    *len = in.len - in.pos;
    return 0;
}

int cli_stdin_json(json_t **out, struct err *err)
{
    const char *p;
    size_t len;

    if (cli_stdin_rest(&p, &len, err) != 0)
        return -1;
    if (len == 0)
        return err_set(err, "stdin: expected a JSON object, got nothing");
    if (json_parse(p, len, out, err) != 0)
        return err_prefix(err, "stdin");
    return 0;
}

void cli_password_free(char *p)
{
    if (p) {
        secret_wipe(p, strlen(p));
        free(p);
    }
}

static char *strip_line(const char *p, size_t n)
{
    char *s;

    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static int password_from_tty(const char *prompt, char **out, struct err *err)
{
    struct termios old, quiet;
    char line[PASSWORD_LINE_MAX + 2];
    FILE *tty = fopen("/dev/tty", "r+");
    bool ok;

    if (tty == NULL)
        return err_set(err, "password: cannot open the terminal: %s", strerror(errno));
    fprintf(tty, "%s", prompt);
    fflush(tty);
    if (tcgetattr(fileno(tty), &old) != 0) {
        fclose(tty);
        return err_set(err, "password: terminal: %s", strerror(errno));
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    (void)tcsetattr(fileno(tty), TCSANOW, &quiet);
    ok = fgets(line, sizeof line, tty) != NULL;
    (void)tcsetattr(fileno(tty), TCSANOW, &old);
    fprintf(tty, "\n");
    fclose(tty);
    if (!ok) {
        secret_wipe(line, sizeof line);
        return err_set(err, "password: nothing entered");
    }
    *out = strip_line(line, strlen(line));
    secret_wipe(line, sizeof line);
    return *out ? 0 : err_set(err, "out of memory");
}

int cli_password(const char *prompt, const char *file, char **out, struct err *err)
{
    *out = NULL;
    if (file) {
        char buf[PASSWORD_LINE_MAX + 2];
        FILE *f = fopen(file, "r");
        size_t n;
        if (f == NULL)
            return err_set(err, "%s: %s", file, strerror(errno));
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        {
            char *nl = memchr(buf, '\n', n);
            if (nl)
                n = (size_t)(nl - buf);
        }
        *out = strip_line(buf, n);
        secret_wipe(buf, sizeof buf);
    } else if (!in.loaded && isatty(STDIN_FILENO)) {
        return password_from_tty(prompt, out, err);
    } else {
        const char *p, *nl;
        if (stdin_load(err) != 0)
            return -1;
        p = in.data + in.pos;
        nl = memchr(p, '\n', in.len - in.pos);
        if (in.pos >= in.len)
            return err_set(err, "password: none given (use --password-file or a first line on "
                                "stdin)");
        *out = strip_line(p, nl ? (size_t)(nl - p) : in.len - in.pos);
        in.pos = nl ? (size_t)(nl - in.data) + 1 : in.len;
    }
    if (*out == NULL)
        return err_set(err, "out of memory");
    if (**out == '\0') {
        free(*out);
        *out = NULL;
        return err_set(err, "password: empty");
    }
    return 0;
}

int cli_new_password(const char *prompt, char **out, struct err *err)
{
    char *again = NULL;
    bool same;

    *out = NULL;
    if (in.loaded || !isatty(STDIN_FILENO))
        return cli_password(prompt, NULL, out, err);
    if (password_from_tty(prompt, out, err) != 0)
        return -1;
    if (password_from_tty("again: ", &again, err) != 0) {
        cli_password_free(*out);
        *out = NULL;
        return -1;
    }
    same = secret_equal_str(*out, again);
    cli_password_free(again);
    if (!same) {
        cli_password_free(*out);
        *out = NULL;
        return err_set(err, "password: the two entries differ");
    }
    return 0;
}

/* The access check of every signed-in command: the action COMMAND names in
 * the one table (actions.c). A command missing from the table is refused:
 * a new command cannot act before it names its action. */
static int require_command_action(const char *command, const struct registry_actor *actor,
                                  struct err *err)
{
    const struct cli_action *a = cli_action_find(command);

    if (a == NULL)
        return err_setk(err, ERR_INTERNAL, "no access action declared for `%s`", command);
    if (a->action == NULL)
        return err_setk(err, ERR_INTERNAL, "`%s` takes no signed-in user", command);
    return registry_require_action(actor, a->action, err);
}

int cli_session_open(const char *command, const char *data, const char *user,
                     const char *password_file, bool need_user, struct cli_session *s)
{
    struct err err = ERR_INIT;
    char *password = NULL;
    int rc;

    memset(s, 0, sizeof *s);
    if (need_user && user == NULL)
        return cli_usage_error(command, "--user USERNAME is required (the acting user)");
    if (password_file && user == NULL)
        return cli_usage_error(command, "--password-file needs --user");
    if (datadir_open(cli_data_dir(data), &s->dd, &err) != 0 ||
        datadir_db_open(s->dd, 0, &s->db, &err) != 0) {
        cli_session_close(s);
        return cli_fail(command, &err);
    }
    if (user == NULL)
        return EXIT_OK;
    if (cli_password("password: ", password_file, &password, &err) != 0) {
        cli_session_close(s);
        return cli_fail(command, &err);
    }
    rc = registry_authenticate(s->db, s->dd->keys_dir, user, password, &s->actor, &err);
    cli_password_free(password);
    if (rc == 0)
        rc = require_command_action(command, s->actor, &err);
    if (rc != 0) {
        cli_session_close(s);
        return cli_fail(command, &err);
    }
    return EXIT_OK;
}

int cli_sign_in(const char *command, const struct cli_common_opts *c, struct cli_session *s)
{
    return cli_session_open(command, c->data, c->user, c->password_file, true, s);
}

void cli_session_close(struct cli_session *s)
{
    registry_actor_free(s->actor);
    db_close(s->db);
    datadir_free(s->dd);
    memset(s, 0, sizeof *s);
}

int cli_print_json(const json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);

    if (s == NULL)
        return EXIT_FAIL;
    fputs(s, stdout);
    fputc('\n', stdout);
    free(s);
    return EXIT_OK;
}

int cli_result(const char *command, int rc, json_t *out, const struct err *err)
{
    int x = rc == 0 ? (out ? cli_print_json(out) : EXIT_OK) : cli_fail(command, err);

    json_decref(out);
    return x;
}

int cli_run_session(const char *command, const struct cli_common_opts *c, bool need_user,
                    cli_signed_fn fn, const void *opts)
{
    struct cli_session s;
    struct err err = ERR_INIT;
    json_t *out = NULL;
    int rc;

    if ((rc = cli_session_open(command, c->data, c->user, c->password_file, need_user, &s)) != 0)
        return rc;
    rc = fn(&s, opts, &out, &err);
    rc = cli_result(command, rc, out, &err);
    cli_session_close(&s);
    return rc;
}

int cli_run_signed(const char *command, const struct cli_common_opts *c, cli_signed_fn fn,
                   const void *opts)
{
    return cli_run_session(command, c, true, fn, opts);
}

struct show_one {
    struct cli_common_opts o;
    cli_show_fn show;
};

static int show_one(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    const struct show_one *so = opts;
    return so->show(s->db, s->actor, so->o.args[0], out, err);
}

int cli_show_one(const char *command, const struct cli_command *help, const char *what,
                 cli_show_fn show, int argc, char **argv)
{
    /* A family of one subcommand with no options of its own. */
    const char *sp = strchr(command, ' ');
    char family[32];
    struct show_one so = { .show = show };
    int rc;

    (void)snprintf(family, sizeof family, "%.*s", sp ? (int)(sp - command) : 0, command);
    const struct cli_family f = { family, help, NULL, "*", "*" };
    if ((rc = cli_parse(&f, help->name, &so.o, argc, argv, 1, 1, what)) != CLI_GO)
        return rc;
    return cli_run_signed(command, &so.o, show_one, &so);
}
