#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_registry.h"
#include "core/buf.h"
#include "db/datadir.h"
#include "registry/registry.h"

static int evidence_add(int argc, char **argv);

static const struct cli_command evidence_commands[] = {
    { "add", evidence_add, "add a file to the evidence store",
      "usage: civreg evidence add FILE [--media-type TYPE] [--data DIR] --user U\n"
      "                           [--password-file F]\n"
      "\n"
      "Stores FILE (at most 64 MiB) in DIR/blobs/ab/cd/<sha256>, records who\n"
      "added it and when, and prints its SHA-256: the hash records list in\n"
      "their \"evidence\". Adding the same bytes again changes nothing.\n" },
    { NULL, NULL, NULL, NULL },
};

int cmd_evidence(int argc, char **argv)
{
    return cli_dispatch("evidence", evidence_commands, argc, argv);
}

static int read_whole(const char *path, unsigned char **out, size_t *len, struct err *err)
{
    struct buf b = BUF_INIT(REGISTRY_BLOB_MAX);
    unsigned char chunk[65536];
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL)
        return err_set(err, "%s: %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&b, chunk, n) != 0) {
            fclose(f);
            return err_set(err, "%s: larger than %zu bytes", path, REGISTRY_BLOB_MAX);
        }
    if (ferror(f)) {
        fclose(f);
        buf_release(&b);
        return err_set(err, "%s: read error", path);
    }
    fclose(f);
    *out = buf_detach(&b, len);
    return *out ? 0 : err_set(err, "out of memory");
}

static int evidence_add(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "user", required_argument, NULL, 'U' },
        { "password-file", required_argument, NULL, 'p' },
        { "media-type", required_argument, NULL, 'm' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *data = NULL, *user = NULL, *pwfile = NULL, *media = NULL;
    struct cli_session s;
    struct err err = ERR_INIT;
    unsigned char *p = NULL;
    size_t len = 0;
    char hash[65];
    int c, rc;

    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'U': user = optarg; break;
        case 'p': pwfile = optarg; break;
        case 'm': media = optarg; break;
        case 'h': return cli_help(&evidence_commands[0]);
        default: return cli_usage_error("evidence add", "invalid option");
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("evidence add", "exactly one FILE is required");
    if ((rc = cli_session_open("evidence add", data, user, pwfile, true, &s)) != 0)
        return rc;
    if (read_whole(argv[optind], &p, &len, &err) != 0 ||
        registry_blob_put(s.db, s.dd->blobs_dir, s.actor, p, len, media, hash, &err) != 0) {
        rc = cli_fail("evidence add", &err);
    } else {
        printf("%s\n", hash);
        rc = EXIT_OK;
    }
    free(p);
    cli_session_close(&s);
    return rc;
}
