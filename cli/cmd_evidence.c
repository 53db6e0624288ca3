#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_registry.h"
#include "core/buf.h"
#include "db/datadir.h"
#include "registry/registry.h"

static cli_run_fn evidence_add;

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

struct evidence_opts {
    struct cli_common_opts common;
    const char *media;
};

static const struct cli_opt evidence_options[] = {
    CLI_OPT_STR("media-type", struct evidence_opts, media, NULL, "TYPE"),
    CLI_OPT_END,
};

static const struct cli_family evidence_family = { "evidence", evidence_commands,
                                                   evidence_options, "*", "*" };

int cmd_evidence(int argc, char **argv)
{
    return cli_family_dispatch(&evidence_family, argc, argv);
}

static int evidence_add(int argc, char **argv)
{
    struct evidence_opts o = { 0 };
    struct cli_session s;
    struct err err = ERR_INIT;
    struct buf file = BUF_INIT(0);
    char hash[65];
    int rc;

    if ((rc = cli_parse(&evidence_family, "add", &o, argc, argv, 1, 1, "exactly one FILE")) !=
        CLI_GO)
        return rc;
    if ((rc = cli_sign_in("evidence add", &o.common, &s)) != 0)
        return rc;
    if (cli_read_file(o.common.args[0], REGISTRY_BLOB_MAX, &file, &err) != 0 ||
        registry_blob_put(s.db, s.dd->blobs_dir, s.actor, file.data, file.len, o.media, hash,
                          &err) != 0) {
        rc = cli_fail("evidence add", &err);
    } else {
        printf("%s\n", hash);
        rc = EXIT_OK;
    }
    buf_release(&file);
    cli_session_close(&s);
    return rc;
}
