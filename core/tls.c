#include "tls.h"

#include <openssl/ssl.h>

#include "log.h"

int tls_server_setup(void *ssl_ctx, const char *who, const char *cert, const char *key)
{
    SSL_CTX *ctx = ssl_ctx;

    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        log_error("%s: cannot load the TLS certificate %s", who, cert);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        log_error("%s: cannot load the TLS key %s, or it does not match the certificate", who,
                  key);
        return -1;
    }
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        log_error("%s: cannot require TLS 1.2 or later", who);
        return -1;
    }
    return 1;
}
