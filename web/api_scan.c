/* civreg web: digitization over HTTP — upload batches of scans, list the
 * imported volumes and pages, serve a page's preview and file.
 *
 * A batch is a staging folder under DATADIR/uploads/: the browser starts
 * one, sends its files one request each (so it can show progress per file;
 * each is streamed to disk with a cap), then asks for the import. The
 * import runs scan_import over the batch's files in upload order with the
 * same sink as `civreg scan import` (registry_blob_put and
 * registry_event_append with the signed-in clerk's actor), so a web import
 * is the same signed scan.import event, and a separator sheet starts a new
 * volume for the pages after it. The staging folder is removed afterwards,
 * whatever the outcome. Built with the registry and scanner modules. */
#include "web_int.h"

#if defined(CIVREG_HAVE_REGISTRY) && defined(CIVREG_HAVE_SCANNER)

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/encode.h"
#include "core/log.h"
#include "core/secret.h"
#include "registry/registry.h"
#include "scan_routes.h"
#include "scanner/import.h"
#include "scanner/volumes.h"

#define SCAN_MAX_FILE ((size_t)64 << 20) /* one scanned file (a multi-page TIFF) */
#define SCAN_MAX_FILES 1000              /* files per batch */
#define BATCH_ID_LEN 32                  /* 16 random bytes in hex */
#define CHUNK 65536
#define SCAN_ID_MAX 128                  /* a volume or page id from the path */

static struct registry_actor *actor_of(struct web_request *rq)
{
    return rq->session->actor;
}

/* Scanner failures: the kind decides (an unknown volume or page is 404,
 * storage failures 500 without detail). */
static int scan_failure(struct web_request *rq, const struct err *err)
{
    return web_send_failure(rq->conn, err);
}

/* ---- batches -------------------------------------------------------------- */

/* DATADIR/uploads/ID into OUT; -1 unless ID is a batch id. */
static int batch_dir(struct web_request *rq, const char *id, char *out, size_t size)
{
    int n;

    if (strlen(id) != BATCH_ID_LEN || strspn(id, "0123456789abcdef") != BATCH_ID_LEN)
        return -1;
    n = snprintf(out, size, "%s/uploads/%s", rq->srv->dd->dir, id);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* A batch belongs to the user who started it: its "owner" file holds the
 * user name. 0 when RQ's user owns the batch in DIR, else -1. */
static int batch_owned(struct web_request *rq, const char *dir)
{
    char path[1024], owner[128];
    FILE *f;
    size_t n;

    if (snprintf(path, sizeof path, "%s/owner", dir) >= (int)sizeof path ||
        (f = fopen(path, "rb")) == NULL)
        return -1;
    n = fread(owner, 1, sizeof owner - 1, f);
    fclose(f);
    owner[n] = '\0';
    return strcmp(owner, rq->session->username) == 0 ? 0 : -1;
}

static void batch_remove(const char *dir)
{
    char path[1024];
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path &&
                unlink(path) != 0)
                batch_remove(path); /* a numbered folder holding one file */
        }
        closedir(d);
    }
    (void)rmdir(dir);
}

/* Batches started and never imported (a closed browser) are removed a day
 * after their last file. */
static void batch_sweep(const char *uploads)
{
    char path[1024];
    DIR *d = opendir(uploads);
    struct dirent *e;
    struct stat st;
    time_t now = time(NULL);

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strlen(e->d_name) != BATCH_ID_LEN ||
            snprintf(path, sizeof path, "%s/%s", uploads, e->d_name) >= (int)sizeof path)
            continue;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && now - st.st_mtime > 24 * 3600)
            batch_remove(path);
    }
    closedir(d);
}

int web_api_scan_batch_create(struct web_request *rq)
{
    unsigned char rnd[BATCH_ID_LEN / 2];
    char id[BATCH_ID_LEN + 1], dir[1024], path[1024];
    FILE *f;

    if (snprintf(path, sizeof path, "%s/uploads", rq->srv->dd->dir) >= (int)sizeof path ||
        (mkdir(path, 0700) != 0 && errno != EEXIST))
        return web_send_error(rq->conn, 500, "internal", "cannot create the upload folder");
    batch_sweep(path);
    secret_random(rnd, sizeof rnd);
    hex_encode(rnd, sizeof rnd, id);
    if (batch_dir(rq, id, dir, sizeof dir) != 0 || mkdir(dir, 0700) != 0 ||
        snprintf(path, sizeof path, "%s/owner", dir) >= (int)sizeof path ||
        (f = fopen(path, "wb")) == NULL)
        return web_send_error(rq->conn, 500, "internal", "cannot create the upload batch");
    fputs(rq->session->username, f);
    if (fclose(f) != 0) {
        batch_remove(dir);
        return web_send_error(rq->conn, 500, "internal", "cannot create the upload batch");
    }
    return web_send_owned(rq, 201, json_pack("{s:s,s:I,s:I}", "id", id, "max_file_bytes",
                                         (json_int_t)SCAN_MAX_FILE, "max_files",
                                         (json_int_t)SCAN_MAX_FILES));
}

/* The scanner decodes these; anything else is refused before it is kept. */
static bool scan_magic(const unsigned char *p, size_t n)
{
    return (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) ||
           (n >= 3 && memcmp(p, "\xff\xd8\xff", 3) == 0) ||
           (n >= 4 && (memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0)) ||
           (n >= 2 && p[0] == 'P' && p[1] >= '1' && p[1] <= '6');
}

/* The file name the browser gave (X-File-Name, URL-encoded), reduced to a
 * safe base name for the import record: letters, digits, . - _ only. */
static void safe_name(const char *given, char *out, size_t size)
{
    char dec[256];
    size_t o = 0;
    int n = given ? mg_url_decode(given, (int)strlen(given), dec, (int)sizeof dec, 0) : -1;
    const char *s = n > 0 ? dec : "scan";
    const char *slash = strrchr(s, '/');

    if (slash != NULL)
        s = slash + 1;
    for (; *s != '\0' && o + 1 < size; s++) {
        unsigned char c = (unsigned char)*s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || (c == '.' && o > 0);
        out[o++] = ok ? (char)c : '_';
    }
    if (o == 0)
        out[o++] = 's';
    out[o] = '\0';
}

/* Count the batch's files (the owner file aside). */
static long batch_count(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    long n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && strcmp(e->d_name, "owner") != 0)
            n++;
    closedir(d);
    return n;
}

/* One file, streamed to disk in an mg_read loop and capped: it is written
 * under a temporary name and renamed when complete, so a cut-off upload
 * never enters the batch. Files are numbered in arrival order, which is
 * the import order. */
int web_api_scan_batch_file(struct web_request *rq)
{
    char id[BATCH_ID_LEN + 1], dir[1024], part[1024], slot[1024], final[1024], name[96];
    unsigned char *chunk;
    long long clen = rq->ri->content_length;
    size_t total = 0;
    long count;
    int fd = -1, n, status = 0;
    const char *code = NULL, *msg = NULL;

    if (web_param(rq, 0, id, sizeof id) != 0 || batch_dir(rq, id, dir, sizeof dir) != 0 ||
        batch_owned(rq, dir) != 0)
        return web_send_error(rq->conn, 404, "not_found", "no such upload batch");
    if (clen > (long long)SCAN_MAX_FILE)
        return web_send_error(rq->conn, 413, "too_large", "a scan may be at most 64 MB");
    if ((count = batch_count(dir)) < 0)
        return web_send_error(rq->conn, 500, "internal", "cannot read the upload batch");
    if (count >= SCAN_MAX_FILES)
        return web_send_error(rq->conn, 413, "too_many_files", "a batch holds at most 1000 files");
    safe_name(mg_get_header(rq->conn, "X-File-Name"), name, sizeof name);
    if (snprintf(part, sizeof part, "%s/.part-%s", dir, name) >= (int)sizeof part ||
        snprintf(slot, sizeof slot, "%s/%06ld", dir, count + 1) >= (int)sizeof slot ||
        snprintf(final, sizeof final, "%s/%s", slot, name) >= (int)sizeof final)
        return web_send_error(rq->conn, 400, "bad_request", "file name too long");
    /* Each file in its own numbered folder: the import walks them in
     * upload order and records the browser's file name. */
    if (mkdir(slot, 0700) != 0)
        return web_send_error(rq->conn, 409, "conflict",
                              "send a batch's files one at a time, in order");
    /* Worker threads have small stacks: the buffer is on the heap. */
    if ((chunk = malloc(CHUNK)) == NULL)
        return web_send_error(rq->conn, 500, "internal", "out of memory");
    fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        free(chunk);
        return web_send_error(rq->conn, 500, "internal", "cannot store the upload");
    }
    while ((n = mg_read(rq->conn, chunk, CHUNK)) > 0) {
        if (total == 0 && !scan_magic(chunk, (size_t)n)) {
            status = 415, code = "unsupported_media_type";
            msg = "a scan must be a PNG, JPEG, TIFF or PNM image";
            break;
        }
        total += (size_t)n;
        if (total > SCAN_MAX_FILE) {
            status = 413, code = "too_large", msg = "a scan may be at most 64 MB";
            break;
        }
        if (write(fd, chunk, (size_t)n) != n) {
            status = 500, code = "internal", msg = "cannot store the upload";
            break;
        }
    }
    if (status == 0 && n < 0)
        status = 400, code = "bad_request", msg = "the upload was cut off";
    if (status == 0 && total == 0)
        status = 400, code = "bad_request", msg = "the scan is empty";
    if (status == 0 && clen >= 0 && (long long)total != clen)
        status = 400, code = "bad_request", msg = "the upload was cut off";
    free(chunk);
    if (close(fd) != 0 && status == 0)
        status = 500, code = "internal", msg = "cannot store the upload";
    if (status == 0 && rename(part, final) != 0)
        status = 500, code = "internal", msg = "cannot store the upload";
    if (status != 0) {
        (void)unlink(part);
        (void)rmdir(slot);
        return web_send_error(rq->conn, status, code, msg);
    }
    return web_send_owned(rq, 201, json_pack("{s:s,s:I,s:I}", "name", name, "bytes",
                                         (json_int_t)total, "position", (json_int_t)(count + 1)));
}

/* The sink of `civreg scan import`, with the session's actor. */
struct sink_ctx {
    struct web_request *rq;
};

static int sink_put(void *ctx, const void *p, size_t len, const char *media_type, char hash[65],
                    struct err *err)
{
    struct sink_ctx *c = ctx;
    return registry_blob_put(c->rq->w->db, c->rq->srv->dd->blobs_dir, actor_of(c->rq), p, len,
                             media_type, hash, err);
}

static int sink_event(void *ctx, const char *type, const json_t *objects, const json_t *data,
                      uint64_t *seq, struct err *err)
{
    struct sink_ctx *c = ctx;
    return registry_event_append(c->rq->w->db, actor_of(c->rq), type, objects, data, seq, err);
}

/* MSG with every server path taken out, for the browser: the staging path
 * of a file (DIR/NNNNNN/NAME, where decoders name it, often more than once)
 * becomes NAME, the name the browser sent; any other mention of the batch
 * or of the data directory becomes "(upload)". New string, or NULL when out
 * of memory. */
static char *client_message(const char *msg, const char *dir, const char *datadir)
{
    struct buf b = BUF_INIT(ERR_MSG_MAX * 4);
    size_t dl = strlen(dir), ddl = strlen(datadir);
    const char *m = msg;

    while (*m != '\0') {
        bool staged = strncmp(m, dir, dl) == 0 && m[dl] == '/' &&
                      strspn(m + dl + 1, "0123456789") == 6 && m[dl + 7] == '/';
        if (staged) {
            m += dl + 8;
            continue;
        }
        if (strncmp(m, dir, dl) == 0 || (ddl > 0 && strncmp(m, datadir, ddl) == 0)) {
            if (buf_append(&b, "(upload)", 8) != 0)
                return NULL;
            m += strncmp(m, dir, dl) == 0 ? dl : ddl;
            continue;
        }
        if (buf_append(&b, m, 1) != 0)
            return NULL;
        m++;
    }
    return (char *)buf_detach(&b, NULL);
}

/* Import the batch: 200 with the summary when anything was imported or
 * already present; 422 with the per-file errors when every file failed
 * (nothing is stored then). The batch is removed in every case. */
int web_api_scan_batch_import(struct web_request *rq)
{
    char id[BATCH_ID_LEN + 1], dir[1024];
    char *paths[1];
    char **files = NULL;
    size_t nfiles = 0, keep = 0;
    struct scan_import_sink sink;
    struct scan_import_opts o;
    struct scan_import_summary sum;
    struct sink_ctx ctx;
    struct err err = ERR_INIT;
    json_t *out;
    int rc;

    WEB_NEED_DB(rq);
    if (web_param(rq, 0, id, sizeof id) != 0 || batch_dir(rq, id, dir, sizeof dir) != 0 ||
        batch_owned(rq, dir) != 0)
        return web_send_error(rq->conn, 404, "not_found", "no such upload batch");
    if (registry_require_action(actor_of(rq), "scan.import", &err) != 0) {
        batch_remove(dir);
        return web_send_error(rq->conn, 403, "forbidden", err_msg(&err));
    }
    paths[0] = dir;
    if (scan_collect_files(paths, 1, &files, &nfiles, &err) != 0) {
        batch_remove(dir);
        return web_send_error(rq->conn, 500, "internal", "cannot read the upload batch");
    }
    /* The owner file is not a scan. */
    for (size_t i = 0; i < nfiles; i++) {
        const char *b = strrchr(files[i], '/');
        if (strcmp(b ? b + 1 : files[i], "owner") == 0)
            free(files[i]);
        else
            files[keep++] = files[i];
    }
    nfiles = keep;
    if (nfiles == 0) {
        scan_free_files(files, nfiles);
        batch_remove(dir);
        return web_send_error(rq->conn, 400, "bad_request", "the batch has no files");
    }
    ctx.rq = rq;
    sink.ctx = &ctx;
    sink.max_blob = REGISTRY_BLOB_MAX;
    sink.put_blob = sink_put;
    sink.append_event = sink_event;
    memset(&o, 0, sizeof o);
    o.office = registry_actor_office(actor_of(rq));
    o.actor = registry_actor_username(actor_of(rq));
    o.jobs = 1; /* the server's workers already share the machine */
    if (scan_memory_budget(rq->srv->dd->conf, &o.memory_budget, &err) != 0) {
        scan_free_files(files, nfiles);
        batch_remove(dir);
        log_error("web: scan import: %s", err_msg(&err));
        return web_send_error(rq->conn, 500, "internal", "civreg.conf: bad scan_memory_mb");
    }
    rc = scan_import(rq->w->db, &sink, &o, files, nfiles, &sum, &err);
    scan_free_files(files, nfiles);
    batch_remove(dir);
    if (rc != 0) {
        scan_import_summary_release(&sum);
        log_error("web: scan import by %s: %s", rq->session->username, err_msg(&err));
        return web_send_error(rq->conn, 500, "internal", "the import could not complete");
    }
    out = scan_import_summary_json(&sum);
    bool bad = false; /* a member that could not be replaced or added */
    /* The stored names are the staging names; report the browser's. */
    {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(out, "errors"), i, e) {
            const char *f = json_string_value(json_object_get(e, "file"));
            const char *b = f ? strrchr(f, '/') : NULL;
            const char *m = json_string_value(json_object_get(e, "error"));
            char *msg = m ? client_message(m, dir, rq->srv->dd->dir) : NULL;
            if (b != NULL)
                bad |= json_object_set_new(e, "file", json_string(b + 1)) != 0;
            /* Messages name the staging path DIR/NNNNNN/NAME: keep NAME. */
            bad |= json_object_set_new(e, "error",
                                       json_string(msg ? msg : "the file could not be imported")) != 0;
            free(msg);
        }
    }
    rc = sum.files_failed == sum.files_total ? 422 : 200;
    log_info("web: %s imported batch %s: %zu files, %zu pages added, %zu failed",
             rq->session->username, sum.import_id, sum.files_total, sum.pages_added,
             sum.files_failed);
    scan_import_summary_release(&sum);
    if (rc == 422 && out != NULL)
        bad |= json_object_set_new(out, "error",
                                   json_pack("{s:s,s:s}", "code", "rejected", "message",
                                             "no file of the batch could be imported")) != 0;
    if (bad) {
        json_decref(out);
        return web_send_error(rq->conn, 500, "internal", "out of memory");
    }
    return web_send_owned(rq, rc, out);
}

/* ---- volumes and pages ------------------------------------------------------ */

int web_api_scan_volumes(struct web_request *rq)
{
    return web_send_read(rq, scan_volume_list, "volumes");
}

/* The scanner's read of the volume or page that path parameter 0 names,
 * copied into ID (WHAT: the 400 answer when it is too long). Returns 0
 * with *OUT set, or the status of the error answer already sent. */
typedef int (*scan_by_id_fn)(struct db *db, const char *id, json_t **out, struct err *err);

static int scan_call_by_id(struct web_request *rq, const char *what, scan_by_id_fn fn,
                           char id[SCAN_ID_MAX], json_t **out)
{
    struct err err = ERR_INIT;

    *out = NULL;
    WEB_NEED_DB(rq);
    if (web_param(rq, 0, id, SCAN_ID_MAX) != 0)
        return web_send_error(rq->conn, 400, "bad_request", what);
    if (fn(rq->w->db, id, out, &err) != 0)
        return scan_failure(rq, &err);
    return 0;
}

int web_api_scan_volume_pages(struct web_request *rq)
{
    char id[SCAN_ID_MAX];
    json_t *out = NULL;
    int rc = scan_call_by_id(rq, "volume id too long", scan_volume_pages, id, &out);

    if (rc != 0)
        return rc;
    return web_send_owned(rq, 200, json_pack("{s:s,s:o}", "volume", id, "pages", out));
}

int web_api_scan_page(struct web_request *rq)
{
    char id[SCAN_ID_MAX];
    json_t *out = NULL;
    int rc = scan_call_by_id(rq, "page id too long", scan_page_show, id, &out);

    return rc != 0 ? rc : web_send_owned(rq, 200, out);
}

static const char *image_type(const unsigned char *p, size_t n)
{
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (n >= 3 && memcmp(p, "\xff\xd8\xff", 3) == 0)
        return "image/jpeg";
    if (n >= 4 && (memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0))
        return "image/tiff";
    if (n >= 2 && p[0] == 'P' && p[1] >= '1' && p[1] <= '6')
        return "image/x-portable-anymap";
    return "application/octet-stream";
}

/* /api/v1/pages/{id}/preview (the downscaled PNG the importer stored) or
 * /api/v1/pages/{id}/image (the scanned file as uploaded), re-hashed by
 * the registry on the way out. */
int web_api_scan_page_image(struct web_request *rq)
{
    struct err err = ERR_INIT;
    char id[128], kind[16], etag[80];
    json_t *page = NULL;
    const char *hash;
    unsigned char *p = NULL;
    size_t len = 0;
    struct embedded_file f;

    WEB_NEED_DB(rq);
    if (web_param(rq, 0, id, sizeof id) != 0 || web_param(rq, 1, kind, sizeof kind) != 0 ||
        (strcmp(kind, "preview") != 0 && strcmp(kind, "image") != 0))
        return web_send_error(rq->conn, 404, "not_found", "a page has a preview and an image");
    if (scan_page_show(rq->w->db, id, &page, &err) != 0)
        return scan_failure(rq, &err);
    hash = json_string_value(json_object_get(page, kind[0] == 'p' ? "preview_hash" : "file_hash"));
    if (hash == NULL) {
        json_decref(page);
        return web_send_error(rq->conn, 404, "not_found", "this page has no preview");
    }
    if (registry_blob_get(rq->w->db, rq->srv->dd->blobs_dir, hash, &p, &len, &err) != 0) {
        json_decref(page);
        return scan_failure(rq, &err);
    }
    (void)snprintf(etag, sizeof etag, "\"%s\"", hash);
    f.name = hash;
    f.data = p;
    f.len = len;
    web_send_asset(rq->conn, &f, image_type(p, len), etag, true);
    free(p);
    json_decref(page);
    return 200;
}

#endif
