#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "db/datadir.h"

struct init_opts {
    struct cli_common_opts common; /* --data */
    struct datadir_init_opts init;
};

static const struct cli_opt init_options[] = {
    CLI_OPT_STR("country", struct init_opts, init.country, NULL, "CODE"),
    CLI_OPT_STR("office", struct init_opts, init.office, NULL, "CODE"),
    CLI_OPT_STR("office-name", struct init_opts, init.office_name, NULL, "NAME"),
    CLI_OPT_END,
};

static const struct cli_family init_family = { "init", NULL, init_options, "*", NULL };

int cmd_init(int argc, char **argv)
{
    struct init_opts o = { 0 };
    struct err err = ERR_INIT;
    const char *data;
    int rc;

    if ((rc = cli_parse(&init_family, NULL, &o, argc, argv, 0, 0, NULL)) != CLI_GO)
        return rc;
    data = cli_data_dir(o.common.data);
    if (datadir_init(data, &o.init, &err) != 0)
        return cli_fail("init", &err);
    printf("created data directory %s\n", data);
    return EXIT_OK;
}
