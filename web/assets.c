/* civreg web: static assets embedded at build time (web/assets/). They are
 * served at /static/NAME with an ETag and revalidation, and at
 * /static/FINGERPRINT/NAME, which pages use, with a year of caching: the
 * fingerprint changes whenever any asset changes, and JS modules import
 * each other by relative paths, so one fingerprint covers them all. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/hash.h"
#include "web_int.h"

extern const struct embedded_file web_asset_files[];
extern const size_t web_asset_files_count;


void web_assets_fingerprint(char out[17])
{
    uint64_t h = FNV1A_INIT;
    for (size_t i = 0; i < web_asset_files_count; i++) {
        h = fnv1a(h, web_asset_files[i].name, strlen(web_asset_files[i].name) + 1);
        h = fnv1a(h, web_asset_files[i].data, web_asset_files[i].len);
    }
    (void)snprintf(out, 17, "%016llx", (unsigned long long)h);
}

const struct embedded_file *web_asset_find(const char *name)
{
    return embedded_find(web_asset_files, web_asset_files_count, name);
}

const char *web_asset_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        { ".html", "text/html; charset=utf-8" },
        { ".css", "text/css; charset=utf-8" },
        { ".js", "text/javascript; charset=utf-8" },
        { ".json", "application/json; charset=utf-8" },
        { ".svg", "image/svg+xml" },
        { ".png", "image/png" },
        { ".ico", "image/x-icon" },
        { ".woff2", "font/woff2" },
    };
    const char *dot = strrchr(name, '.');

    for (size_t i = 0; dot != NULL && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

int web_handle_asset(struct web_request *rq)
{
    const char *name = rq->path + strlen("/static/");
    const struct embedded_file *f;
    const char *slash = strchr(name, '/');
    bool immutable = false;
    char etag[48];

    if (slash != NULL && (size_t)(slash - name) == 16 && strspn(name, "0123456789abcdef") == 16) {
        /* Only the current fingerprint is immutable; a page from before an
         * upgrade still gets today's file, revalidated each time. */
        immutable = memcmp(name, rq->srv->asset_fp, 16) == 0;
        name = slash + 1;
    }
    /* Names come from the embedded table only: no file system, so ".."
     * cannot reach anything. */
    f = web_asset_find(name);
    if (f == NULL)
        return web_send_error(rq->conn, 404, "not_found", "no such asset");
    (void)snprintf(etag, sizeof etag, "\"%016llx\"",
                   (unsigned long long)fnv1a(FNV1A_INIT, f->data, f->len));
    return web_send_asset(rq->conn, f, web_asset_type(name), etag, immutable);
}
