/* civreg web: the embedded HTTP server (CivetWeb). */
#ifndef CIVREG_WEB_H
#define CIVREG_WEB_H

#include "core/err.h"

struct web_options {
    const char *data_dir; /* required: an initialised data directory */
    const char *listen;   /* "ADDR:PORT", "[V6]:PORT"; NULL = civreg.conf or 127.0.0.1:8080;
                             port 0 picks a free port */
    int threads;          /* worker threads; 0 = default */
    const char *tls_cert; /* PEM certificate (chain) file: serve HTTPS; NULL = HTTP */
    const char *tls_key;  /* PEM private key file; required with tls_cert */
};

/* Serve until SIGINT or SIGTERM, then stop cleanly (in-flight requests
 * finish, database connections close). Prints "listening on URL" on stdout
 * once ready. Returns 0 after a clean shutdown, -1 when it cannot start. */
int web_serve(const struct web_options *opts, struct err *err) __attribute__((warn_unused_result));

#endif
