#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "web/web.h"

struct serve_opts {
    struct cli_common_opts common; /* --data */
    struct web_options web;
    long threads;
};

static const struct cli_opt serve_options[] = {
    CLI_OPT_STR("listen", struct serve_opts, web.listen, NULL, "ADDR:PORT"),
    CLI_OPT_INT("threads", struct serve_opts, threads, 1, 256, NULL),
    CLI_OPT_STR("tls-cert", struct serve_opts, web.tls_cert, NULL, "FILE"),
    CLI_OPT_STR("tls-key", struct serve_opts, web.tls_key, NULL, "FILE"),
    CLI_OPT_FLAG("demo", struct serve_opts, web.demo, NULL),
    CLI_OPT_END,
};

static const struct cli_family serve_family = { "serve", NULL, serve_options, "*", NULL };

int cmd_serve(int argc, char **argv)
{
    struct serve_opts o = { 0 };
    struct err err = ERR_INIT;
    int rc;

    if ((rc = cli_parse(&serve_family, NULL, &o, argc, argv, 0, 0, NULL)) != CLI_GO)
        return rc;
    if ((o.web.tls_cert == NULL) != (o.web.tls_key == NULL))
        return cli_usage_error("serve", "--tls-cert and --tls-key go together");
    o.web.threads = (int)o.threads;
    o.web.data_dir = cli_data_dir(o.common.data);
    if (web_serve(&o.web, &err) != 0)
        return cli_fail("serve", &err);
    return EXIT_OK;
}
