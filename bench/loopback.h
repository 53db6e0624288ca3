/* civreg: a TCP connection to the server on loopback (127.0.0.1:PORT), for
 * the web benchmark (bench/web) and the tests' HTTP client (tests/support/
 * http.c and the tests that speak raw HTTP). Header-only so both build it. */
#ifndef CIVREG_LOOPBACK_H
#define CIVREG_LOOPBACK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* A socket connected to 127.0.0.1:PORT, or -1. With SRC (a dotted IPv4
 * address such as "127.0.0.7") the socket is bound to it first, so the server
 * sees that client address. RECV_S and SEND_S, when > 0, bound each read and
 * each write in seconds. */
static inline int loopback_connect(int port, const char *src, int recv_s, int send_s)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    if (recv_s > 0) {
        struct timeval tv = { recv_s, 0 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    if (send_s > 0) {
        struct timeval tv = { send_s, 0 };
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    if (src) {
        struct sockaddr_in me;
        memset(&me, 0, sizeof me);
        me.sin_family = AF_INET;
        if (inet_pton(AF_INET, src, &me.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&me, sizeof me) != 0) {
            close(fd);
            return -1;
        }
    }
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

#endif
