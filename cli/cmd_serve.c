#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "web/web.h"

#ifdef CIVREG_HAVE_NATIONAL
#include "db/datadir.h"
#include "db/db.h"
#include "registry/national/national.h"

/* Background sync to the national tier when civreg.conf names one
 * (national_url; national_ca, national_sync_seconds,
 * national_sync_timeout_seconds): a thread of its own
 * beside the web server (registry/national/bgsync.c). *DD and *BG are NULL
 * when there is nothing to run. */
static int bgsync_start(const char *dir, struct datadir **dd, struct national_bgsync **bg)
{
    struct national_bgsync_opts bo = { 0 };
    struct err err = ERR_INIT;
    struct db *db = NULL;
    unsigned long interval = 0;
    int timeout = 0;
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
        cli_national_timeout((*dd)->conf, 0, &timeout, &err) != 0 ||
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
    bo.timeout_s = timeout;
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
    o.web.national_fetch = cli_national_fetch;
#ifdef CIVREG_HAVE_NATIONAL
    {
        struct datadir *dd = NULL;
        struct national_bgsync *bg = NULL;
        if ((rc = bgsync_start(o.web.data_dir, &dd, &bg)) != 0)
            return rc;
        rc = web_serve(&o.web, &err) != 0 ? cli_fail("serve", &err) : EXIT_OK;
        national_bgsync_stop(bg);
        datadir_free(dd);
        return rc;
    }
#else
    if (web_serve(&o.web, &err) != 0)
        return cli_fail("serve", &err);
    return EXIT_OK;
#endif
}
