#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "web/web.h"

int cmd_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "listen", required_argument, NULL, 'l' },
        { "threads", required_argument, NULL, 't' },
        { "tls-cert", required_argument, NULL, 'C' },
        { "tls-key", required_argument, NULL, 'K' },
        { "demo", no_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct web_options o = { 0 };
    struct err err = ERR_INIT;
    long n;
    int c;

    optind = 0;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o.data_dir = optarg; break;
        case 'l': o.listen = optarg; break;
        case 't':
            if (cli_parse_int(optarg, 1, 256, &n) != 0)
                return cli_usage_error("serve", "--threads must be a number from 1 to 256");
            o.threads = (int)n;
            break;
        case 'C': o.tls_cert = optarg; break;
        case 'K': o.tls_key = optarg; break;
        case 'D': o.demo = true; break;
        case 'h': return cli_help(cli_find(cli_commands, "serve"));
        default: return cli_usage_error("serve", "invalid option");
        }
    }
    if (optind != argc)
        return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    if ((o.tls_cert == NULL) != (o.tls_key == NULL))
        return cli_usage_error("serve", "--tls-cert and --tls-key go together");
    o.data_dir = cli_data_dir(o.data_dir);
    o.national_fetch = cli_national_fetch;
    if (web_serve(&o, &err) != 0)
        return cli_fail("serve", &err);
    return EXIT_OK;
}
