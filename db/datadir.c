#include "datadir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "rows.h"
#include "sql.h"

#include <sqlite3.h>

static char *path_join(const char *dir, const char *name)
{
    struct buf b = BUF_INIT(PATH_MAX);

    if (buf_printf(&b, "%s/%s", dir, name) != 0)
        return NULL;
    return (char *)buf_detach(&b, NULL);
}

int datadir_check_country(const char *code, struct err *err)
{
    size_t n = code ? strlen(code) : 0;

    if (n < 1 || n > 3)
        return err_set(err, "country: '%s' must be an ICAO code of 1 to 3 letters (e.g. UTO, D)",
                       code ? code : "");
    for (size_t i = 0; i < n; i++)
        if (code[i] < 'A' || code[i] > 'Z')
            return err_set(err, "country: '%s' must be upper-case letters A-Z", code);
    return 0;
}

int datadir_check_office_code(const char *code, struct err *err)
{
    size_t n = code ? strlen(code) : 0;

    if (n < 2 || n > 8)
        return err_set(err, "office: '%s' must be 2 to 8 characters A-Z, 0-9", code ? code : "");
    for (size_t i = 0; i < n; i++)
        if (!((code[i] >= 'A' && code[i] <= 'Z') || (code[i] >= '0' && code[i] <= '9')))
            return err_set(err, "office: '%s' must be 2 to 8 characters A-Z, 0-9", code);
    return 0;
}

static int check_office_name(const char *name, struct err *err)
{
    size_t n = strlen(name);

    if (n == 0 || n > 200)
        return err_set(err, "office name: must be 1 to 200 bytes");
    if (!utf8_valid(name, n))
        return err_set(err, "office name: not valid UTF-8");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return err_set(err, "office name: control characters are not allowed");
    return 0;
}

/* Write FILE atomically: temporary file, fsync, rename, fsync of the folder. */
static int write_file_atomic(const char *dir, const char *name, const char *text, mode_t mode,
                             struct err *err)
{
    char *path = path_join(dir, name), *tmp = NULL;
    struct buf tb = BUF_INIT(PATH_MAX);
    int fd = -1, dfd = -1, rc = -1;
    size_t len = strlen(text), off = 0;

    if (path == NULL || buf_printf(&tb, "%s.tmp", path) != 0) {
        err_set(err, "%s/%s: path too long", dir, name);
        goto out;
    }
    tmp = (char *)buf_detach(&tb, NULL);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        err_set(err, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            err_set(err, "%s: write failed: %s", tmp, strerror(errno));
            goto out;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        err_set(err, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        err_set(err, "%s: %s", path, strerror(errno));
        goto out;
    }
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0)
        (void)fsync(dfd);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (rc != 0 && tmp)
        (void)unlink(tmp);
    free(tmp);
    free(path);
    return rc;
}

/* The entries a data directory may hold; used to refuse an existing one and
 * to clean up after a failed init. */
static const char *const layout_files[] = { "civreg.db", "civreg.db-wal", "civreg.db-shm",
                                            "civreg.db-journal", "civreg.conf", "civreg.conf.tmp",
                                            NULL };
static const char *const layout_dirs[] = { "blobs", "keys", NULL };

static void remove_layout(const char *dir)
{
    char *p;

    for (size_t i = 0; layout_files[i]; i++) {
        if ((p = path_join(dir, layout_files[i])) != NULL) {
            (void)unlink(p);
            free(p);
        }
    }
    for (size_t i = 0; layout_dirs[i]; i++) {
        if ((p = path_join(dir, layout_dirs[i])) != NULL) {
            (void)rmdir(p);
            free(p);
        }
    }
}

static int dir_state(const char *dir, bool *exists, bool *empty, bool *is_datadir, struct err *err)
{
    struct stat st;
    DIR *d;
    struct dirent *de;

    *exists = *empty = *is_datadir = false;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        return err_set(err, "%s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return err_set(err, "%s: exists and is not a directory", dir);
    *exists = true;
    d = opendir(dir);
    if (d == NULL)
        return err_set(err, "%s: %s", dir, strerror(errno));
    *empty = true;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        *empty = false;
        if (strcmp(de->d_name, "civreg.db") == 0 || strcmp(de->d_name, "civreg.conf") == 0)
            *is_datadir = true;
    }
    closedir(d);
    return 0;
}

/* The folder NAME in DIR, readable by its owner only. */
static int private_dir(const char *dir, const char *name, struct err *err)
{
    char *p = path_join(dir, name);
    int rc = 0;

    if (p == NULL || mkdir(p, 0700) != 0 || chmod(p, 0700) != 0)
        rc = err_set(err, "%s/%s: %s", dir, name, p ? strerror(errno) : "path too long");
    free(p);
    return rc;
}

struct office {
    const char *country, *code, *name, *created_at;
};

/* The new data directory's settings and its office (a struct office). */
static int record_office(struct db *db, void *arg, struct err *err)
{
    const struct office *o = arg;

    if (db_setting_set(db, "country", o->country, err) != 0 ||
        db_setting_set(db, "office", o->code, err) != 0 ||
        db_setting_set(db, "created_at", o->created_at, err) != 0)
        return -1;
    return db_run(db, "INSERT INTO offices(code, name, country, created_at) VALUES (?1,?2,?3,?4)",
                  "recording office", err, "ssss", o->code, o->name, o->country, o->created_at);
}

static int populate(const char *dir, const char *country, const char *office,
                    const char *office_name, const char *conf_extra, struct err *err)
{
    struct buf conf = BUF_INIT(8192);
    struct db *db = NULL;
    char *p = NULL, now[TIME_ISO8601_LEN + 1];
    int rc = -1;

    if (private_dir(dir, "blobs", err) != 0 || private_dir(dir, "keys", err) != 0)
        goto out;
    if (buf_printf(&conf,
                   "# civreg data directory settings (written by `civreg init`)\n"
                   "country = %s\n"
                   "office = %s\n"
                   "office_name = %s\n"
                   "# address `civreg serve` listens on when --listen is not given\n"
                   "listen = %s\n%s",
                   country, office, office_name, DATADIR_DEFAULT_LISTEN,
                   conf_extra ? conf_extra : "") != 0) {
        err_set(err, "civreg.conf: too large");
        goto out;
    }
    if (write_file_atomic(dir, "civreg.conf", buf_str(&conf), 0640, err) != 0)
        goto out;
    if ((p = path_join(dir, "civreg.db")) == NULL) {
        err_set(err, "%s: path too long", dir);
        goto out;
    }
    if (db_open(p, DB_OPEN_CREATE | DB_OPEN_MIGRATE, &db, err) != 0)
        goto out;
    if (time_iso8601(time(NULL), now) != 0) {
        err_set(err, "system clock out of range");
        goto out;
    }
    if (db_tx_run(db, record_office,
                  &(struct office){ country, office, office_name, now }, err) != 0)
        goto out;
    rc = 0;
out:
    db_close(db);
    buf_release(&conf);
    free(p);
    return rc;
}

int datadir_init(const char *dir, const struct datadir_init_opts *opts, struct err *err)
{
    const char *country = opts && opts->country ? opts->country : DATADIR_DEFAULT_COUNTRY;
    const char *office = opts && opts->office ? opts->office : DATADIR_DEFAULT_OFFICE;
    const char *office_name =
        opts && opts->office_name ? opts->office_name : DATADIR_DEFAULT_OFFICE_NAME;
    const char *conf_extra = opts ? opts->conf_extra : NULL;
    bool exists, empty, is_datadir, made = false;
    struct buf tb = BUF_INIT(PATH_MAX);
    char *tmp = NULL;
    int rc = -1;

    if (datadir_check_country(country, err) != 0 || datadir_check_office_code(office, err) != 0 ||
        check_office_name(office_name, err) != 0)
        return -1;
    if (dir_state(dir, &exists, &empty, &is_datadir, err) != 0)
        return -1;
    if (is_datadir)
        return err_set(err,
                       "%s already holds a civreg data directory; nothing was changed "
                       "(choose another --data, or use the existing one)",
                       dir);
    if (exists && !empty)
        return err_set(err, "%s is not empty; nothing was changed (give an empty or new folder)",
                       dir);
    if (exists) {
        if (chmod(dir, 0750) != 0)
            return err_set(err, "%s: %s", dir, strerror(errno));
        if (populate(dir, country, office, office_name, conf_extra, err) != 0) {
            remove_layout(dir);
            return -1;
        }
        return 0;
    }
    /* Build the new directory beside its final place, then rename it in one
     * step: a crash midway never leaves a half-made data directory at DIR. */
    if (buf_printf(&tb, "%s.init-XXXXXX", dir) != 0)
        return err_set(err, "%s: path too long", dir);
    tmp = (char *)buf_detach(&tb, NULL);
    if (tmp == NULL || mkdtemp(tmp) == NULL) {
        err_set(err, "%s: cannot create a temporary folder beside it: %s", dir, strerror(errno));
        goto out;
    }
    made = true;
    if (chmod(tmp, 0750) != 0 || populate(tmp, country, office, office_name, conf_extra, err) != 0) {
        if (err && err->msg[0] == '\0')
            err_set(err, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, dir) != 0) {
        err_set(err, "%s: %s", dir, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (rc != 0 && made) {
        remove_layout(tmp);
        (void)rmdir(tmp);
    }
    free(tmp);
    return rc;
}

void datadir_free(struct datadir *d)
{
    if (d == NULL)
        return;
    free(d->dir);
    free(d->db_path);
    free(d->blobs_dir);
    free(d->keys_dir);
    free(d->conf_path);
    conf_free(d->conf);
    free(d);
}

int datadir_open(const char *dir, struct datadir **out, struct err *err)
{
    struct datadir *d;
    struct stat st;

    *out = NULL;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            return err_set(err, "%s: no such data directory (create one with `civreg init --data %s`)",
                           dir, dir);
        return err_set(err, "%s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return err_set(err, "%s: not a directory", dir);
    d = calloc(1, sizeof *d);
    if (d == NULL)
        return err_oom(err);
    d->dir = strdup(dir);
    d->db_path = path_join(dir, "civreg.db");
    d->blobs_dir = path_join(dir, "blobs");
    d->keys_dir = path_join(dir, "keys");
    d->conf_path = path_join(dir, "civreg.conf");
    if (!d->dir || !d->db_path || !d->blobs_dir || !d->keys_dir || !d->conf_path) {
        datadir_free(d);
        return err_set(err, "%s: path too long", dir);
    }
    if (access(d->db_path, F_OK) != 0) {
        err_set(err, "%s: not a civreg data directory (no civreg.db; create one with `civreg init`)",
                dir);
        datadir_free(d);
        return -1;
    }
    if (conf_load(d->conf_path, &d->conf, err) != 0) {
        datadir_free(d);
        return -1;
    }
    *out = d;
    return 0;
}

int datadir_db_open(const struct datadir *d, unsigned flags, struct db **out, struct err *err)
{
    return db_open(d->db_path, flags & ~(unsigned)DB_OPEN_CREATE, out, err);
}
