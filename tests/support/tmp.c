#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

char *tmp_dir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char *p = malloc(4096);

    if (p == NULL)
        return NULL;
    snprintf(p, 4096, "%s/civreg-test-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (mkdtemp(p) == NULL) {
        free(p);
        return NULL;
    }
    return p;
}

char *tmp_dir_paths(const char *tag, const struct tmp_path *paths)
{
    char *dir = tmp_dir(tag);

    for (const struct tmp_path *t = paths; dir != NULL && t->buf != NULL; t++) {
        int n = snprintf(t->buf, t->size, "%s/%s", dir, t->name);
        if (n < 0 || (size_t)n >= t->size) {
            tmp_remove(dir);
            free(dir);
            dir = NULL;
        }
    }
    return dir;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tmp_remove(const char *path)
{
    if (path)
        nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

char *file_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    size_t n = 0, cap = 0;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = (n + 65536 + 1) * 2;
            char *q = realloc(p, cap);
            if (!q) { free(p); fclose(f); return NULL; }
            p = q;
        }
        size_t got = fread(p + n, 1, 65536, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    p[n] = '\0';
    if (len)
        *len = n;
    return p;
}

int file_write(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    if (fwrite(p, 1, len, f) != len) {
        fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}
