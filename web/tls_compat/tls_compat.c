/* civreg web: OpenSSL 3 compatibility for the system's CivetWeb.
 *
 * CivetWeb up to 1.15 loads OpenSSL at run time with dlopen("libssl.so") and
 * resolves its functions by name, among them SSL_get_peer_certificate, which
 * OpenSSL 3 no longer exports (it became a macro for
 * SSL_get1_peer_certificate). Such a CivetWeb jumps to a NULL pointer on the
 * first TLS connection.
 *
 * This tiny shared object carries the SONAME "libssl.so" and depends on the
 * real libssl. web/tls.c loads it before CivetWeb starts; CivetWeb's own
 * dlopen("libssl.so") then finds it already loaded (glibc matches loaded
 * objects by SONAME) and every dlsym() on it searches the shim first, then
 * the real libssl it depends on. Only the one missing name is defined here.
 */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate
X509 *SSL_get_peer_certificate(const SSL *s);

X509 *SSL_get_peer_certificate(const SSL *s)
{
    /* Same ownership as the OpenSSL 1.1 function: the caller frees it. */
    return SSL_get1_peer_certificate(s);
}
