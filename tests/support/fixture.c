#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "expect.h"
#include "support.h"

int civreg_run_as(const char *data, const char *dir, const char *user, const char *in,
                  struct proc_result *r, const char *const args[])
{
    const char *argv[64];
    char pw[4200];
    size_t n = 0;

    snprintf(pw, sizeof pw, "%s/%s.pw", dir, user);
    for (; args[n] != NULL && n < 56; n++)
        argv[n] = args[n];
    argv[n++] = "--data";
    argv[n++] = data;
    argv[n++] = "--user";
    argv[n++] = user;
    argv[n++] = "--password-file";
    argv[n++] = pw;
    argv[n] = NULL;
    return civreg_run(in, r, argv);
}

char *civreg_run_as_ok(const char *data, const char *dir, const char *user, const char *in,
                       const char *const args[])
{
    struct proc_result r;
    char *out;

    assert_int_equal(civreg_run_as(data, dir, user, in, &r, args), 0);
    if (r.status != 0)
        fail_msg("civreg %s %s as %s: exit %d: %s%s", args[0], args[1] ? args[1] : "", user,
                 r.status, r.err, r.out);
    out = r.out;
    r.out = NULL;
    proc_result_free(&r);
    return out;
}

void civreg_ok(const char *in, const char *const args[])
{
    free(civreg_run_ok(in, args));
}

static void sh_va(struct proc_result *r, char *cmd, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void sh_va(struct proc_result *r, char *cmd, size_t size, const char *fmt, va_list ap)
{
    int n = vsnprintf(cmd, size, fmt, ap);
    if (n < 0 || (size_t)n >= size)
        fail_msg("shell command longer than %zu bytes", size);
    char *const argv[] = { (char *)"/bin/sh", (char *)"-c", cmd, NULL };
    assert_int_equal(proc_run(argv, NULL, 0, 120, r), 0);
}

void sh_run(struct proc_result *r, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    sh_va(r, cmd, sizeof cmd, fmt, ap);
    va_end(ap);
}

void sh_ok(const char *fmt, ...)
{
    char cmd[8192];
    struct proc_result r;
    va_list ap;
    va_start(ap, fmt);
    sh_va(&r, cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (r.status != 0)
        fail_msg("`%s` failed (%d): %s %s", cmd, r.status, r.out, r.err);
    proc_result_free(&r);
}

char *tmp_data_dir(const char *tag, char *data, size_t size, const char *const init_extra[])
{
    const char *argv[32] = { "init", "--data", data };
    size_t n = 3;
    struct proc_result r;
    char *dir = tmp_dir(tag);

    if (dir == NULL)
        return NULL;
    for (size_t i = 0; init_extra && init_extra[i] && n < 31; i++)
        argv[n++] = init_extra[i];
    argv[n] = NULL;
    if (snprintf(data, size, "%s/data", dir) >= (int)size || civreg_run(NULL, &r, argv) != 0) {
        tmp_free(&dir);
        return NULL;
    }
    if (r.status != 0) {
        print_error("civreg init: exit %d: %s\n", r.status, r.err);
        tmp_free(&dir);
    }
    proc_result_free(&r);
    return dir;
}

int conf_append(const char *data, const char *lines)
{
    char path[4200];
    FILE *f;

    if (snprintf(path, sizeof path, "%s/civreg.conf", data) >= (int)sizeof path ||
        (f = fopen(path, "a")) == NULL)
        return -1;
    if (fputs(lines, f) < 0) {
        fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

void tmp_free(char **dir)
{
    tmp_remove(*dir);
    free(*dir);
    *dir = NULL;
}

const char *tmp_path(const char *dir, const char *name)
{
    static char p[8][4200];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

int pw_file(const char *dir, const char *name, const char *password, char *out, size_t size)
{
    char line[512];
    int n = snprintf(line, sizeof line, "%s\n", password);

    if (snprintf(out, size, "%s/%s.pw", dir, name) >= (int)size || n < 0 ||
        (size_t)n >= sizeof line)
        return -1;
    return file_write(out, line, (size_t)n);
}

void civreg_user_add(const char *data, const char *username, const char *roles,
                     const char *password, const char *admin_pw_file)
{
    char line[512];
    const char *first[] = { "user", "add", "--data", data, "--username", username, "--role",
                            roles, NULL };
    const char *more[] = { "user", "add", "--data", data, "--username", username, "--role",
                           roles, "--user", "admin", "--password-file", admin_pw_file, NULL };

    snprintf(line, sizeof line, "%s\n", password);
    civreg_ok(line, admin_pw_file ? more : first);
}

void civreg_staff_add(const char *data, const char *dir, const char *clerk_roles,
                      const char *reg_roles, char *pw_admin, char *pw_c1, char *pw_c2,
                      char *pw_reg)
{
    const struct {
        const char *name, *roles, *password;
        char *file;
    } staff[] = {
        { "admin", "admin", STAFF_PW_ADMIN, pw_admin },
        { "clerk1", clerk_roles, STAFF_PW_CLERK1, pw_c1 },
        { "clerk2", "clerk", STAFF_PW_CLERK2, pw_c2 },
        { "reg", reg_roles, STAFF_PW_REG, pw_reg },
    };

    for (size_t i = 0; i < sizeof staff / sizeof staff[0]; i++) {
        if (staff[i].file == NULL)
            continue;
        if (pw_file(dir, staff[i].name, staff[i].password, staff[i].file, 4096) != 0)
            fail_msg("cannot write the password file of %s", staff[i].name);
        civreg_user_add(data, staff[i].name, staff[i].roles, staff[i].password,
                        i == 0 ? NULL : pw_admin);
    }
}

void civreg_example_record(const char *evidence_hash, char *out, size_t size)
{
    static const char empty[] = "\"evidence\": []";
    char *ex = civreg_run_ok(NULL, (const char *[]){ "record", "draft", "--example", NULL });
    char *p = strstr(ex, empty);

    if (p == NULL || snprintf(out, size, "%.*s\"evidence\": [\"%s\"]%s", (int)(p - ex), ex,
                              evidence_hash, p + strlen(empty)) >= (int)size)
        fail_msg("the example record has no empty evidence list or is too long");
    free(ex);
}

char *test_data_read(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    char *p;

    snprintf(path, sizeof path, "%s/%s/%s", CIVREG_TEST_DATA, dir, name);
    if ((p = file_read(path, len)) == NULL)
        fail_msg("cannot read %s", path);
    return p;
}

void sh_vrun(struct proc_result *r, char *cmd, size_t size, const char *fmt, va_list ap)
{
    sh_va(r, cmd, size, fmt, ap);
}
