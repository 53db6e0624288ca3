/* civreg core: the server side of TLS, shared by every civreg server
 * (the district's `civreg serve` and the national tier's `national serve`).
 */
#ifndef CIVREG_CORE_TLS_H
#define CIVREG_CORE_TLS_H

/* Configure SSL_CTX (an OpenSSL SSL_CTX *, as CivetWeb hands it to its
 * init_ssl callback) with the certificate chain in the PEM file CERT and
 * the private key in the PEM file KEY, which must match, and TLS 1.2 or
 * later. Returns 1 (CivetWeb: "configured here"), or -1 after logging an
 * error that starts with WHO ("serve", "national serve"). */
int tls_server_setup(void *ssl_ctx, const char *who, const char *cert, const char *key);

#endif
