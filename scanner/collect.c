/* civreg scanner: the files of an import, in natural sort order. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import.h"

#define COLLECT_MAX_FILES 1000000
#define COLLECT_MAX_DEPTH 16

int scan_natural_compare(const char *a, const char *b)
{
    while (*a && *b) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            const char *ea, *eb;
            size_t la, lb;
            int c;
            while (*a == '0' && a[1] >= '0' && a[1] <= '9')
                a++;
            while (*b == '0' && b[1] >= '0' && b[1] <= '9')
                b++;
            for (ea = a; *ea >= '0' && *ea <= '9'; ea++)
                ;
            for (eb = b; *eb >= '0' && *eb <= '9'; eb++)
                ;
            la = (size_t)(ea - a);
            lb = (size_t)(eb - b);
            if (la != lb)
                return la < lb ? -1 : 1;
            c = memcmp(a, b, la);
            if (c != 0)
                return c;
            a = ea;
            b = eb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

static int cmp_paths(const void *x, const void *y)
{
    int c = scan_natural_compare(*(char *const *)x, *(char *const *)y);
    return c ? c : strcmp(*(char *const *)x, *(char *const *)y);
}

struct list {
    char **v;
    size_t n, cap;
};

static int push(struct list *l, const char *path, struct err *err)
{
    if (l->n >= COLLECT_MAX_FILES)
        return err_set(err, "import: more than %d files", COLLECT_MAX_FILES);
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return err_set(err, "import: out of memory");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strdup(path);
    if (l->v[l->n] == NULL)
        return err_set(err, "import: out of memory");
    l->n++;
    return 0;
}

static int walk(struct list *l, const char *path, int depth, struct err *err)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    int rc = 0;

    if (stat(path, &st) != 0)
        return err_set(err, "%s: %s", path, strerror(errno));
    if (S_ISREG(st.st_mode))
        return push(l, path, err);
    if (!S_ISDIR(st.st_mode))
        return err_set(err, "%s: neither a file nor a folder", path);
    if (depth > COLLECT_MAX_DEPTH)
        return err_set(err, "%s: folders nested more than %d deep", path, COLLECT_MAX_DEPTH);
    d = opendir(path);
    if (d == NULL)
        return err_set(err, "%s: %s", path, strerror(errno));
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char *child;
        size_t n;
        if (de->d_name[0] == '.')
            continue;
        n = strlen(path) + strlen(de->d_name) + 2;
        child = malloc(n);
        if (child == NULL) {
            rc = err_set(err, "import: out of memory");
            break;
        }
        /* cannot truncate: N counts both names, the slash and the NUL */
        (void)snprintf(child, n, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", de->d_name);
        rc = walk(l, child, depth + 1, err);
        free(child);
    }
    closedir(d);
    return rc;
}

int scan_collect_files(char *const *paths, size_t n, char ***out, size_t *count, struct err *err)
{
    struct list l = { NULL, 0, 0 };

    *out = NULL;
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        if (walk(&l, paths[i], 0, err) != 0) {
            scan_free_files(l.v, l.n);
            return -1;
        }
    }
    if (l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, cmp_paths);
    /* The same file named twice is imported once. */
    {
        size_t w = 0;
        for (size_t i = 0; i < l.n; i++) {
            if (w > 0 && strcmp(l.v[w - 1], l.v[i]) == 0) {
                free(l.v[i]);
                continue;
            }
            l.v[w++] = l.v[i];
        }
        l.n = w;
    }
    *out = l.v;
    *count = l.n;
    return 0;
}

void scan_free_files(char **files, size_t count)
{
    for (size_t i = 0; files && i < count; i++)
        free(files[i]);
    free(files);
}
