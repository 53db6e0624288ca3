#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "web/web.h"

#ifdef CIVREG_HAVE_NATIONAL
#include "db/datadir.h"
#include "db/db.h"
#include "registry/national/national.h"

/* Background sync to the national tier when civreg.conf names one
 * (national_url; national_ca, national_sync_seconds): a thread of its own
 * beside the web server (registry/national/bgsync.c). *DD and *BG are NULL
 * when there is nothing to run. */
static int bgsync_start(const char *dir, struct datadir **dd, struct national_bgsync **bg)
{
    struct national_bgsync_opts bo = { 0 };
    struct err err = ERR_INIT;
    struct db *db = NULL;
    unsigned long interval = 0;
    char status[4200];

    *dd = NULL;
    *bg = NULL;
    /* a data directory serve --demo has yet to create: no national tier */
    if (datadir_open(dir, dd, &err) != 0) {
        *dd = NULL;
        return 0;
    }
    if (conf_get((*dd)->conf, "national_url", NULL) == NULL) {
        datadir_free(*dd);
        *dd = NULL;
        return 0;
    }
    if (conf_get_uint((*dd)->conf, "national_sync_seconds", NATIONAL_SYNC_INTERVAL, 5, 86400,
                      &interval, &err) != 0 ||
        /* the schema is current before the thread opens its connection */
        datadir_db_open(*dd, DB_OPEN_MIGRATE, &db, &err) != 0)
        goto fail;
    db_close(db);
    (void)snprintf(status, sizeof status, "%s/national-sync.json", (*dd)->dir);
    bo.dd = *dd;
    bo.keys_dir = (*dd)->keys_dir;
    bo.url = conf_get((*dd)->conf, "national_url", NULL);
    bo.ca = conf_get((*dd)->conf, "national_ca", NULL);
    bo.status_path = status;
    bo.interval_s = (unsigned)interval;
    if (national_bgsync_start(&bo, bg, &err) != 0)
        goto fail;
    fprintf(stderr, "serve: background sync to %s (status: civreg sync status)\n", bo.url);
    return 0;
fail:
    datadir_free(*dd);
    *dd = NULL;
    return cli_fail("serve", &err);
}
#endif

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
#ifdef CIVREG_HAVE_NATIONAL
    {
        struct datadir *dd = NULL;
        struct national_bgsync *bg = NULL;
        int rc = bgsync_start(o.data_dir, &dd, &bg);
        if (rc != 0)
            return rc;
        rc = web_serve(&o, &err) != 0 ? cli_fail("serve", &err) : EXIT_OK;
        national_bgsync_stop(bg);
        datadir_free(dd);
        return rc;
    }
#else
    if (web_serve(&o, &err) != 0)
        return cli_fail("serve", &err);
    return EXIT_OK;
#endif
}
