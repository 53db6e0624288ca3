#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "db/datadir.h"

const struct cli_command *cli_find(const struct cli_command *table, const char *name)
{
    for (size_t i = 0; name && table[i].name != NULL; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

int cli_help(const struct cli_command *cmd)
{
    fputs(cmd->usage, stdout);
    return EXIT_OK;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "civreg %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see `civreg help %s`)\n", command);
    return EXIT_USAGE;
}

int cli_fail(const char *command, const struct err *err)
{
    fprintf(stderr, "civreg %s: %s\n", command, err_msg(err));
    return EXIT_FAIL;
}

const char *cli_data_dir(const char *opt)
{
    return opt ? opt : DATADIR_DEFAULT;
}

int cli_dispatch(const char *family, const struct cli_command *table, int argc, char **argv)
{
    const struct cli_command *c;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc >= 3 && strcmp(argv[1], "help") == 0 && (c = cli_find(table, argv[2])) != NULL)
            return cli_help(c);
        printf("usage: civreg %s COMMAND [OPTIONS]\n\ncommands:\n", family);
        for (size_t i = 0; table[i].name; i++)
            printf("  %-12s %s\n", table[i].name, table[i].summary);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    c = cli_find(table, argv[1]);
    if (c == NULL)
        return cli_usage_error(family, "unknown command '%s'", argv[1]);
    return c->run(argc - 1, argv + 1);
}

int cli_without_national(const char *command)
{
    fprintf(stderr, "civreg %s: this civreg was built without the national tier "
                    "(configure with -DCIVREG_NATIONAL=ON and libpq-dev)\n", command);
    return EXIT_FAIL;
}

int cli_sub_index(const void *table, size_t n, size_t size, const char *sub)
{
    const char *row = table;

    for (size_t i = 0; sub && i < n; i++, row += size) {
        const char *name;
        memcpy(&name, row, sizeof name);
        if (strcmp(name, sub) == 0)
            return (int)i;
    }
    return -1;
}

int cli_read_stream(FILE *f, const char *name, struct buf *out, struct err *err)
{
    unsigned char chunk[8192];
    size_t n;

    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(out, chunk, n) != 0)
            return err_set(err, "%s: more than %zu bytes", name, out->max);
    if (ferror(f))
        return err_set(err, "%s: read error", name);
    return 0;
}

int cli_read_file(const char *path, size_t max, struct buf *out, struct err *err)
{
    FILE *f = fopen(path, "rb");
    unsigned char chunk[65536];
    size_t n;

    if (f == NULL)
        return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    out->max = max;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(out, chunk, n) != 0) {
            fclose(f);
            return err_set(err, "%s: larger than %zu bytes", path, max);
        }
    if (ferror(f)) {
        fclose(f);
        buf_release(out);
        return err_set(err, "%s: read error", path);
    }
    fclose(f);
    return 0;
}

int cli_parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    /* Decimal digits only, with an optional minus: strtol alone would also
     * take leading blanks and a plus sign. */
    if (!((s[0] >= '0' && s[0] <= '9') || (s[0] == '-' && s[1] >= '0' && s[1] <= '9')))
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_write_file(const char *path, const void *p, size_t len, struct err *err)
{
    struct buf tmp = BUF_INIT(4096);
    struct stat st;
    FILE *f;
    int rc = -1;

    /* a rename over /dev/null (as root) would put a regular file there */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        bool ok;
        if ((f = fopen(path, "wb")) == NULL)
            return err_set(err, "%s: cannot open: %s", path, strerror(errno));
        ok = fwrite(p, 1, len, f) == len;
        if (fclose(f) != 0 || !ok)
            return err_set(err, "%s: write error: %s", path, strerror(errno));
        return 0;
    }
    if (buf_printf(&tmp, "%s.tmp", path) != 0)
        return err_set(err, "%s: path too long", path);
    if ((f = fopen(buf_str(&tmp), "wb")) == NULL) {
        err_set(err, "%s: cannot create: %s", buf_str(&tmp), strerror(errno));
        goto out;
    }
    if (fwrite(p, 1, len, f) != len || fflush(f) != 0) {
        err_set(err, "%s: write error: %s", path, strerror(errno));
        fclose(f);
        remove(buf_str(&tmp));
        goto out;
    }
    if (fclose(f) != 0 || rename(buf_str(&tmp), path) != 0) {
        err_set(err, "%s: cannot write: %s", path, strerror(errno));
        remove(buf_str(&tmp));
        goto out;
    }
    rc = 0;
out:
    buf_release(&tmp);
    return rc;
}
