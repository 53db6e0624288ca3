/* civreg issuance/reader: the virtual chip behind the vsmartcard virtual
 * reader. pcscd's vpcd driver listens on a TCP port (35963 by default);
 * the card connects to it. Each message is a 2-byte big-endian length and
 * its bytes: one byte is a control (00 power off, 01 power on, 02 reset, 04
 * get ATR, which alone is answered), more is a command APDU answered with
 * the response APDU. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "reader.h"
#include "reader_int.h"

static int connect_once(const char *host, int port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
    char ports[16];
    int fd = -1;

    /* cannot truncate: one int: fits */
    (void)snprintf(ports, sizeof ports, "%d", port);
    if (getaddrinfo(host, ports, &hints, &res) != 0)
        return -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

/* 1 read, 0 orderly close, -1 error or interrupted by STOP */
static int read_full(int fd, unsigned char *p, size_t n, volatile sig_atomic_t *stop)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r;
        int one = 1;
        /* a stop that arrived while we were not blocked in read(): pcscd's
         * presence polls keep every read answering, so EINTR alone would
         * never come */
        if (stop && *stop)
            return -1;
        /* vpcd writes the length and the APDU separately: acknowledge at
         * once, or Nagle's algorithm on its side waits for our delayed ACK
         * (40 ms per APDU) */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
        r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR) {
            if (stop && *stop)
                return -1;
            continue;
        }
        if (r < 0)
            return -1;
        if (r == 0)
            return got == 0 ? 0 : -1;
        got += (size_t)r;
    }
    return 1;
}

static int write_msg(int fd, const unsigned char *p, size_t n)
{
    unsigned char h[2] = { (unsigned char)(n >> 8), (unsigned char)n };
    size_t done = 0;
    if (n > 0xFFFF || write(fd, h, 2) != 2)
        return -1;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}

int vchip_serve_vpcd(struct vchip *c, const char *host, int port, int wait_s,
                     volatile sig_atomic_t *stop, FILE *log, struct err *err)
{
    static unsigned char msg[0x10000];
    struct buf resp = BUF_INIT(RESP_MAX);
    time_t until = time(NULL) + wait_s;
    int fd, rc = -1;

    while ((fd = connect_once(host, port)) < 0) {
        if (time(NULL) >= until || (stop && *stop))
            return err_set(err, "vchip: cannot connect to the virtual reader (vpcd) at %s:%d: "
                                "is pcscd running with vsmartcard-vpcd?", host, port);
        usleep(100 * 1000);
    }
    if (log) {
        fprintf(log, "vchip: connected to vpcd at %s:%d\n", host, port);
        fflush(log);
    }
    for (;;) {
        unsigned char h[2];
        size_t n;
        int r = read_full(fd, h, 2, stop);
        if (r == 0) {
            rc = 0; /* pcscd went away */
            break;
        }
        if (r < 0) {
            rc = stop && *stop ? 0 : err_set(err, "vchip: reading from vpcd: %s", strerror(errno));
            break;
        }
        n = ((size_t)h[0] << 8) | h[1];
        if (n == 0)
            continue;
        if (read_full(fd, msg, n, stop) != 1) {
            err_set(err, "vchip: vpcd closed mid-message");
            break;
        }
        if (n == 1) {
            if (msg[0] == 0x04) {
                size_t al;
                const unsigned char *atr = vchip_atr(&al);
                if (write_msg(fd, atr, al) != 0) {
                    err_set(err, "vchip: writing to vpcd failed");
                    break;
                }
            } else if (msg[0] <= 0x02)
                vchip_reset(c); /* power off, on, reset: a new session */
            continue;
        }
        if (vchip_apdu(c, msg, n, &resp) != 0) {
            err_set(err, "vchip: out of memory");
            break;
        }
        if (log) {
            fprintf(log, "vchip: INS %02X (%zu bytes) -> %02X%02X\n", n > 1 ? msg[1] : 0, n,
                    resp.data[resp.len - 2], resp.data[resp.len - 1]);
            fflush(log);
        }
        if (write_msg(fd, resp.data, resp.len) != 0) {
            err_set(err, "vchip: writing to vpcd failed");
            break;
        }
    }
    close(fd);
    buf_release_secret(&resp);
    return rc;
}
