/* civreg web: loading the OpenSSL 3 compatibility object (web/tls_compat/)
 * from the bytes embedded in the binary, through an anonymous memory file:
 * nothing is written to disk. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/embed.h"
#include "web_int.h"

extern const struct embedded_file web_tls_compat_files[];
extern const size_t web_tls_compat_files_count;

static pthread_mutex_t compat_lock = PTHREAD_MUTEX_INITIALIZER;
static void *compat_handle; /* kept for the life of the process */

int web_tls_compat_load(struct err *err)
{
    const struct embedded_file *f;
    char path[64];
    size_t off = 0;
    int fd = -1, rc = -1;

    pthread_mutex_lock(&compat_lock);
    if (compat_handle != NULL) {
        rc = 0;
        goto out;
    }
    if (web_tls_compat_files_count != 1) {
        err_set(err, "tls: the OpenSSL compatibility object is missing from this build");
        goto out;
    }
    f = &web_tls_compat_files[0];
    fd = memfd_create("libssl.so", MFD_CLOEXEC);
    if (fd < 0) {
        err_set(err, "tls: memfd_create: %s", strerror(errno));
        goto out;
    }
    while (off < f->len) {
        ssize_t w = write(fd, f->data + off, f->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            err_set(err, "tls: writing the compatibility object: %s", strerror(errno));
            goto out;
        }
        off += (size_t)w;
    }
    if (snprintf(path, sizeof path, "/proc/self/fd/%d", fd) >= (int)sizeof path) {
        err_set(err, "tls: path too long");
        goto out;
    }
    compat_handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (compat_handle == NULL) {
        const char *why = dlerror();
        err_set(err, "tls: cannot load the OpenSSL compatibility object: %s",
                why ? why : "unknown error");
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    pthread_mutex_unlock(&compat_lock);
    return rc;
}
