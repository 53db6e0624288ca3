#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "expect.h"
#include "support.h"

static int status_code(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

static int append(char **p, size_t *len, size_t *cap, const char *data, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t nc = (*cap ? *cap * 2 : 4096);
        while (nc < *len + n + 1)
            nc *= 2;
        char *q = realloc(*p, nc);
        if (q == NULL)
            return -1;
        *p = q;
        *cap = nc;
    }
    memcpy(*p + *len, data, n);
    *len += n;
    (*p)[*len] = '\0';
    return 0;
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void child_kill(pid_t *pid)
{
    if (*pid > 0) {
        kill(-*pid, SIGKILL);
        kill(*pid, SIGKILL);
        (void)waitpid(*pid, NULL, 0);
    }
    *pid = -1;
}

void fd_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

int proc_run(char *const argv[], const char *in, size_t in_len, int timeout_s,
             struct proc_result *r)
{
    int pin[2], pout[2], perr[2], st = 0;
    size_t in_off = 0, ocap = 0, ecap = 0;
    double deadline = now_s() + timeout_s;
    pid_t pid;

    memset(r, 0, sizeof *r);
    if (pipe(pin) || pipe(pout) || pipe(perr))
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        dup2(perr[1], 2);
        close(pin[0]); close(pin[1]); close(pout[0]); close(pout[1]); close(perr[0]); close(perr[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    signal(SIGPIPE, SIG_IGN);
    if (in == NULL || in_len == 0) {
        close(pin[1]);
        pin[1] = -1;
    } else {
        fcntl(pin[1], F_SETFL, O_NONBLOCK);
    }
    r->out = calloc(1, 1);
    r->err = calloc(1, 1);
    ocap = ecap = 1;
    for (;;) {
        struct pollfd fds[3];
        int nf = 0, io = -1, ie = -1, ii = -1;
        if (pout[0] >= 0) { io = nf; fds[nf].fd = pout[0]; fds[nf++].events = POLLIN; }
        if (perr[0] >= 0) { ie = nf; fds[nf].fd = perr[0]; fds[nf++].events = POLLIN; }
        if (pin[1] >= 0) { ii = nf; fds[nf].fd = pin[1]; fds[nf++].events = POLLOUT; }
        if (nf == 0)
            break;
        double left = deadline - now_s();
        if (left <= 0) {
            kill(pid, SIGKILL);
            break;
        }
        if (poll(fds, (nfds_t)nf, (int)(left * 1000) + 1) < 0 && errno != EINTR)
            break;
        char chunk[65536];
        if (io >= 0 && (fds[io].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = read(pout[0], chunk, sizeof chunk);
            if (n <= 0) { close(pout[0]); pout[0] = -1; }
            else append(&r->out, &r->out_len, &ocap, chunk, (size_t)n);
        }
        if (ie >= 0 && (fds[ie].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = read(perr[0], chunk, sizeof chunk);
            if (n <= 0) { close(perr[0]); perr[0] = -1; }
            else append(&r->err, &r->err_len, &ecap, chunk, (size_t)n);
        }
        if (ii >= 0 && (fds[ii].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t n = write(pin[1], in + in_off, in_len - in_off);
            if (n > 0)
                in_off += (size_t)n;
            if (n < 0 && errno != EAGAIN) { close(pin[1]); pin[1] = -1; }
            else if (in_off == in_len) { close(pin[1]); pin[1] = -1; }
        }
    }
    if (pout[0] >= 0) close(pout[0]);
    if (perr[0] >= 0) close(perr[0]);
    if (pin[1] >= 0) close(pin[1]);
    waitpid(pid, &st, 0);
    r->status = status_code(st);
    return 0;
}

void proc_result_free(struct proc_result *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

int proc_spawn(char *const argv[], pid_t *pid, int *out_fd)
{
    int p[2];

    if (pipe(p))
        return -1;
    *pid = fork();
    if (*pid < 0)
        return -1;
    if (*pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    *out_fd = p[0];
    return 0;
}

int proc_read_line(int fd, char *line, size_t size, int timeout_s)
{
    size_t n = 0;
    double deadline = now_s() + timeout_s;

    while (n + 1 < size) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        double left = deadline - now_s();
        if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
            return -1;
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r <= 0)
            return -1;
        if (c == '\n')
            break;
        line[n++] = c;
    }
    line[n] = '\0';
    return 0;
}

int proc_wait(pid_t pid, int timeout_s)
{
    double deadline = now_s() + timeout_s;
    int st;

    while (now_s() < deadline) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return status_code(st);
        struct timespec ts = { 0, 20000000 };
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

int civreg_run(const char *in, struct proc_result *r, const char *const args[])
{
    const char *argv[64];
    size_t n = 0;

    argv[n++] = CIVREG_BIN;
    while (args[n - 1] != NULL && n < 63) {
        argv[n] = args[n - 1];
        n++;
    }
    argv[n] = NULL;
    return proc_run((char *const *)argv, in, in ? strlen(in) : 0, 300, r);
}

char *civreg_run_ok(const char *in, const char *const args[])
{
    struct proc_result r;
    char *out;

    assert_int_equal(civreg_run(in, &r, args), 0);
    if (r.status != 0)
        fail_msg("civreg %s %s: exit %d: %s", args[0], args[1] ? args[1] : "", r.status, r.err);
    out = r.out;
    r.out = NULL;
    proc_result_free(&r);
    return out;
}

pid_t civreg_start_quiet(const char *const args[])
{
    pid_t pid = civreg_spawn(args, "/dev/null", "/dev/null", 0);

    assert_true(pid >= 0);
    return pid;
}

char *civreg_run_fail(const char *in, const char *const args[])
{
    struct proc_result r;
    char *e;

    assert_int_equal(civreg_run(in, &r, args), 0);
    if (r.status == 0)
        fail_msg("civreg %s %s: expected a failure: %s", args[0], args[1] ? args[1] : "", r.out);
    e = r.err;
    r.err = NULL;
    proc_result_free(&r);
    return e;
}

void text_chomp(char *s)
{
    size_t n = strlen(s);

    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

pid_t civreg_spawn(const char *const args[], const char *out_path, const char *err_path,
                   unsigned alarm_s)
{
    const char *argv[64];
    size_t n = 0;
    pid_t pid;

    argv[n++] = CIVREG_BIN;
    while (args[n - 1] != NULL && n < 63) {
        argv[n] = args[n - 1];
        n++;
    }
    argv[n] = NULL;
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(127);
        if (alarm_s > 0)
            alarm(alarm_s);
        execv(CIVREG_BIN, (char *const *)argv);
        _exit(127);
    }
    return pid;
}
