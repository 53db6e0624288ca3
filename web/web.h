/* civreg web: the embedded HTTP server (CivetWeb). */
#ifndef CIVREG_WEB_H
#define CIVREG_WEB_H

#include <stdbool.h>

#include "core/err.h"
#include "issuance/passport/passport.h"

/* Demo mode: every demo user has this password (never in a real install). */
#define WEB_DEMO_PASSWORD "demo"
#define WEB_DEMO_RECORDS 300

struct web_demo_user {
    const char *username;
    unsigned roles;
    const char *name; /* the full name shown beside the username */
};
/* The demo users, one per role and two clerks; ends with a NULL username. */
extern const struct web_demo_user web_demo_users[];

/* When DIR does not exist, create a demo data directory there: an office,
 * the demo users, RECORDS synthetic birth records in every state, all made
 * through the registry API. *CREATED tells whether it did. An existing DIR
 * is left alone (0, *CREATED false). */
int web_demo_prepare(const char *dir, int records, bool *created, struct err *err)
    __attribute__((warn_unused_result));

struct web_options {
    const char *data_dir; /* required: an initialised data directory */
    const char *listen;   /* "ADDR:PORT", "[V6]:PORT"; NULL = civreg.conf or 127.0.0.1:8080;
                             port 0 picks a free port */
    int threads;          /* worker threads; 0 = default */
    const char *tls_cert; /* PEM certificate (chain) file: serve HTTPS; NULL = HTTP */
    const char *tls_key;  /* PEM private key file; required with tls_cert */
    bool demo;            /* create a demo data directory when data_dir does not exist */
    /* how enrolment asks the national tier (national_url in civreg.conf) for
     * a person this office does not hold; NULL: never asked */
    office_national_fetch national_fetch;
};

/* Serve until SIGINT or SIGTERM, then stop cleanly (in-flight requests
 * finish, database connections close). Prints "listening on URL" on stdout
 * once ready. Returns 0 after a clean shutdown, -1 when it cannot start. */
int web_serve(const struct web_options *opts, struct err *err) __attribute__((warn_unused_result));

/* Whether this CivetWeb can serve TLS here (loads the OpenSSL 3
 * compatibility object when it needs it): 0, or -1 with the reason. Also
 * used by `civreg national serve`. */
int web_tls_usable(struct err *err) __attribute__((warn_unused_result));

#endif
