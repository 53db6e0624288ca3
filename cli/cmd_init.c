#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "db/datadir.h"

int cmd_init(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "country", required_argument, NULL, 'c' },
        { "office", required_argument, NULL, 'o' },
        { "office-name", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct datadir_init_opts o = { 0 };
    const char *data = NULL;
    struct err err = ERR_INIT;
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'c': o.country = optarg; break;
        case 'o': o.office = optarg; break;
        case 'n': o.office_name = optarg; break;
        case 'h': return cli_help(cli_find(cli_commands, "init"));
        default: return cli_usage_error("init", "invalid option");
        }
    }
    if (optind != argc)
        return cli_usage_error("init", "unexpected argument '%s'", argv[optind]);
    data = cli_data_dir(data);
    if (datadir_init(data, &o, &err) != 0)
        return cli_fail("init", &err);
    printf("created data directory %s\n", data);
    return EXIT_OK;
}
