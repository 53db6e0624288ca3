#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "support.h"
#include "../../bench/loopback.h"

int http_request(int port, const char *method, const char *path, const char *extra_headers,
                 const char *body, size_t body_len, struct http_response *r)
{
    char head[8192];
    char *resp = NULL, *sep;
    size_t len = 0, cap = 0;
    int fd, n;

    memset(r, 0, sizeof *r);
    fd = loopback_connect(port, NULL, 30, 0);
    if (fd < 0)
        return -1;
    n = snprintf(head, sizeof head,
                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s"
                 "Content-Length: %zu\r\n\r\n",
                 method, path, port, extra_headers ? extra_headers : "", body ? body_len : 0);
    if (n < 0 || (size_t)n >= sizeof head || write(fd, head, (size_t)n) != n ||
        (body && body_len && write(fd, body, body_len) != (ssize_t)body_len)) {
        close(fd);
        return -1;
    }
    for (;;) {
        char chunk[65536];
        ssize_t got = read(fd, chunk, sizeof chunk);
        if (got <= 0)
            break;
        if (len + (size_t)got + 1 > cap) {
            cap = (len + (size_t)got + 1) * 2;
            char *q = realloc(resp, cap);
            if (!q) { free(resp); close(fd); return -1; }
            resp = q;
        }
        memcpy(resp + len, chunk, (size_t)got);
        len += (size_t)got;
        resp[len] = '\0';
    }
    close(fd);
    if (resp == NULL || (sep = strstr(resp, "\r\n\r\n")) == NULL ||
        strncmp(resp, "HTTP/1.1 ", 9) != 0) {
        free(resp);
        return -1;
    }
    r->status = (int)strtol(resp + 9, NULL, 10);
    *sep = '\0';
    r->headers = strdup(resp);
    r->body_len = len - (size_t)(sep + 4 - resp);
    r->body = malloc(r->body_len + 1);
    memcpy(r->body, sep + 4, r->body_len);
    r->body[r->body_len] = '\0';
    free(resp);
    return 0;
}

int tcp_connect_from(const char *src, int port, int timeout_s)
{
    return loopback_connect(port, src, timeout_s, timeout_s);
}

int tcp_listen_loopback(int backlog, int *port)
{
    struct sockaddr_in a = { 0 };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0 ||
        (backlog >= 0 && listen(fd, backlog) != 0)) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

void http_response_free(struct http_response *r)
{
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}

int http_header(const struct http_response *r, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name);
    const char *p = r->headers;

    while (p && (p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1, *e = strstr(v, "\r\n");
            while (*v == ' ')
                v++;
            size_t n = e ? (size_t)(e - v) : strlen(v);
            if (n >= size)
                n = size - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 0;
        }
    }
    return -1;
}
