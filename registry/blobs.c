/* civreg registry: the evidence store. Files are named by the SHA-256 of
 * their bytes (blobs/ab/cd/<hash>), written atomically, never overwritten
 * with other bytes, and re-hashed whenever they are read. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/encode.h"
#include "registry_int.h"

bool reg_is_hash(const char *s)
{
    if (s == NULL || strlen(s) != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

int reg_blob_path(const char *blobs_dir, const char *hash, char *out, size_t size,
                  struct err *err)
{
    int n;

    if (!reg_is_hash(hash))
        return err_set(err, "evidence: '%.70s' is not a SHA-256 hash (64 lowercase hex digits)",
                       hash ? hash : "");
    n = snprintf(out, size, "%s/%.2s/%.2s/%s", blobs_dir, hash, hash + 2, hash);
    if (n < 0 || (size_t)n >= size)
        return err_set(err, "%s: path too long", blobs_dir);
    return 0;
}

static int check_media_type(const char *t, struct err *err)
{
    size_t n = strlen(t), slash = 0;

    if (n < 3 || n > 100)
        return err_set(err, "media type: '%.100s' must look like type/subtype", t);
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (c == '/') {
            if (slash || i == 0 || i == n - 1)
                return err_set(err, "media type: '%s' must look like type/subtype", t);
            slash = i;
        } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '+' ||
                     c == '-' || c == '_')) {
            return err_set(err, "media type: '%s' must look like type/subtype (lowercase)", t);
        }
    }
    return slash ? 0 : err_set(err, "media type: '%s' must look like type/subtype", t);
}

/* Read a whole file of at most MAX bytes. */
static int read_file(const char *path, size_t max, unsigned char **out, size_t *len,
                     struct err *err)
{
    struct stat st;
    unsigned char *p = NULL;
    size_t off = 0;
    int fd;

    *out = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return err_set(err, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(err, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return err_set(err, "%s: larger than %zu bytes", path, max);
    }
    p = malloc((size_t)st.st_size + 1);
    if (p == NULL) {
        close(fd);
        return err_setk(err, ERR_INTERNAL, "%s: out of memory", path);
    }
    while (off < (size_t)st.st_size) {
        ssize_t r = read(fd, p + off, (size_t)st.st_size - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        off += (size_t)r;
    }
    close(fd);
    if (off != (size_t)st.st_size) {
        free(p);
        return err_set(err, "%s: short read", path);
    }
    *out = p;
    *len = off;
    return 0;
}

int reg_blob_check_file(const char *blobs_dir, const char *hash, int64_t size, struct err *err)
{
    char path[PATH_MAX], got[65];
    unsigned char *p = NULL;
    size_t len = 0;

    if (reg_blob_path(blobs_dir, hash, path, sizeof path, err) != 0)
        return -1;
    if (read_file(path, REGISTRY_BLOB_MAX, &p, &len, err) != 0)
        return -1;
    reg_sha256_hex(p, len, got);
    free(p);
    if (strcmp(got, hash) != 0)
        return err_set(err, "%s: content changed (its bytes hash to %s)", path, got);
    if (size >= 0 && (int64_t)len != size)
        return err_set(err, "%s: %zu bytes where %lld were recorded", path, len, (long long)size);
    return 0;
}

static int mkdir_one(const char *path, struct err *err)
{
    /* evidence is personal data: owner only */
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return err_set(err, "%s: %s", path, strerror(errno));
    return 0;
}

static void fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Write the blob file unless an intact one is already there. */
static int blob_write(const char *blobs_dir, const char *hash, const void *p, size_t len,
                      struct err *err)
{
    char d1[PATH_MAX], d2[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX];
    size_t off = 0;
    int fd;

    if (reg_blob_path(blobs_dir, hash, path, sizeof path, err) != 0)
        return -1;
    if (access(path, F_OK) == 0 && reg_blob_check_file(blobs_dir, hash, (int64_t)len, NULL) == 0)
        return 0; /* deduplicated */
    if (snprintf(d1, sizeof d1, "%s/%.2s", blobs_dir, hash) >= (int)sizeof d1 ||
        snprintf(d2, sizeof d2, "%s/%.2s", d1, hash + 2) >= (int)sizeof d2 ||
        snprintf(tmp, sizeof tmp, "%s/.tmp-XXXXXX", d2) >= (int)sizeof tmp)
        return err_set(err, "%s: path too long", blobs_dir);
    if (mkdir_one(d1, err) != 0 || mkdir_one(d2, err) != 0)
        return -1;
    fd = mkstemp(tmp);
    if (fd < 0)
        return err_set(err, "%s: %s", tmp, strerror(errno));
    while (off < len) {
        ssize_t w = write(fd, (const unsigned char *)p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            err_set(err, "%s: write failed: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)w;
    }
    if (fchmod(fd, 0400) != 0 || fsync(fd) != 0) {
        err_set(err, "%s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        err_set(err, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    fsync_dir(d2);
    fsync_dir(d1);
    return 0;
}

struct blob_put {
    const struct registry_actor *actor;
    const char *hash;
    size_t len;
    const char *media_type;
};

static int blob_put_tx(struct db *db, void *arg, struct err *err)
{
    struct blob_put *b = arg;
    json_t *data = NULL;
    char now[TIME_ISO8601_LEN + 1];
    uint64_t seq;
    int rc = -1;

    if (registry_blob_exists(db, b->hash, NULL) == 0)
        return 0;
    data = json_pack("{s:I, s:s}", "size", (json_int_t)b->len, "media_type", b->media_type);
    if (data == NULL) {
        err_oom(err);
        goto out;
    }
    if (reg_now(now, err) != 0 ||
        reg_event_append_one(db, b->actor, "evidence.add", "blob", b->hash, b->hash, NULL, data,
                             now, &seq, err) != 0)
        goto out;
    if (db_run(db,
               "INSERT INTO blobs(hash, size, media_type, added_by, added_at, event_seq)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
               "storing evidence metadata", err, "sIsssI", b->hash, (long long)b->len,
               b->media_type, b->actor->username, now, (long long)seq) != 0)
        goto out;
    rc = 0;
out:
    json_decref(data);
    return rc;
}

int registry_blob_put(struct db *db, const char *blobs_dir, const struct registry_actor *actor,
                      const void *p, size_t len, const char *media_type, char hash[65],
                      struct err *err)
{
    struct blob_put b;

    if (registry_require_action(actor, "evidence.add", err) != 0)
        return -1;
    if (len > REGISTRY_BLOB_MAX)
        return err_set(err, "evidence: %zu bytes is over the limit of %zu bytes", len,
                       REGISTRY_BLOB_MAX);
    if (media_type == NULL)
        media_type = "application/octet-stream";
    if (check_media_type(media_type, err) != 0)
        return -1;
    reg_sha256_hex(len ? p : "", len, hash);
    /* The file first: a crash after it leaves an unreferenced file, never a
     * row pointing at nothing. */
    if (blob_write(blobs_dir, hash, len ? p : "", len, err) != 0)
        return -1;
    b.actor = actor;
    b.hash = hash;
    b.len = len;
    b.media_type = media_type;
    if (db_tx_run(db, blob_put_tx, &b, err) != 0)
        return -1;
    reg_after_commit(db, actor);
    return 0;
}

int registry_blob_exists(struct db *db, const char *hash, struct err *err)
{
    long long one;
    int r;

    if (!reg_is_hash(hash))
        return err_set(err, "evidence: '%.70s' is not a SHA-256 hash (64 lowercase hex digits)",
                       hash ? hash : "");
    r = db_query_int64(db, "SELECT 1 FROM blobs WHERE hash=?1", "finding the evidence", &one, err,
                       "s", hash);
    if (r < 0)
        return -1;
    return r == 1 ? 0
                  : err_setk(err, ERR_NOT_FOUND,
                             "evidence: no blob %s in the evidence store (add it first)", hash);
}

int registry_blob_get(struct db *db, const char *blobs_dir, const char *hash, unsigned char **p,
                      size_t *len, struct err *err)
{
    char path[PATH_MAX], got[65];

    *p = NULL;
    *len = 0;
    if (registry_blob_exists(db, hash, err) != 0 ||
        reg_blob_path(blobs_dir, hash, path, sizeof path, err) != 0 ||
        read_file(path, REGISTRY_BLOB_MAX, p, len, err) != 0)
        return -1;
    reg_sha256_hex(*p, *len, got);
    if (strcmp(got, hash) != 0) {
        free(*p);
        *p = NULL;
        *len = 0;
        return err_set(err, "%s: content changed (its bytes hash to %s)", path, got);
    }
    return 0;
}

int registry_blob_info(struct db *db, const char *hash, json_t **out, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int r, rc = -1;

    *out = NULL;
    if (!reg_is_hash(hash))
        return err_set(err, "evidence: '%.70s' is not a SHA-256 hash (64 lowercase hex digits)",
                       hash ? hash : "");
    r = db_query_row(db, &st,
                     "SELECT hash, size, media_type, added_by, added_at, event_seq FROM blobs"
                     " WHERE hash=?1",
                     "reading the evidence", err, "s", hash);
    if (r == 1) {
        *out = json_pack("{s:s, s:I, s:s, s:s, s:s, s:I}", "hash", sqlite3_column_text(st, 0),
                         "size", (json_int_t)sqlite3_column_int64(st, 1), "media_type",
                         sqlite3_column_text(st, 2), "added_by", sqlite3_column_text(st, 3),
                         "added_at", sqlite3_column_text(st, 4), "event",
                         (json_int_t)sqlite3_column_int64(st, 5));
        rc = *out ? 0 : err_oom(err);
    } else if (r == 0) {
        err_setk(err, ERR_NOT_FOUND, "evidence: no blob %s in the evidence store", hash);
    }
    sqlite3_finalize(st);
    return rc;
}
