/* civreg web: the keying progress of an imported register volume (records
 * keyed, verified and registered per page of the volume) and separator
 * sheets printed from the browser: a preview (the sheets' fields and the
 * Code 128 bars the printed PDF carries) and the PDF itself, one A4 page
 * per volume. Built with the registry and scanner modules; the PDF needs
 * issuance's print module. */
#include "web_int.h"

#if defined(CIVREG_HAVE_REGISTRY) && defined(CIVREG_HAVE_SCANNER)

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "registry/registry.h"
#include "scan_routes.h"
#include "scanner/separator.h"
#include "scanner/volumes.h"
#if defined(CIVREG_HAVE_PASSPORT) && __has_include("issuance/print/print.h")
#include "issuance/print/print.h"
#define HAVE_SEPARATOR_PDF 1
#endif

#define SEPARATOR_MAX_SHEETS 50
#define SEPARATOR_PDF_MAX ((size_t)4 << 20)

/* ---- keying progress ------------------------------------------------------- */

static json_int_t count_at(const json_t *progress, json_int_t page, const char *key, bool take)
{
    size_t i;
    json_t *p;

    json_array_foreach(progress, i, p) {
        if (json_integer_value(json_object_get(p, "page")) == page) {
            json_int_t v = json_integer_value(json_object_get(p, key));
            if (take)
                (void)json_object_set_new(p, "matched", json_true());
            return v;
        }
    }
    return 0;
}

/* GET /api/v1/volumes/{id}/progress: {volume, office, year, name, totals:
 * {pages, pages_keyed, pages_to_key, keyed, verified, registered}, pages:
 * [{id, page_number, keyed, verified, registered}], other_pages: [{page,
 * keyed, verified, registered}] (register pages keyed that no scanned page
 * of the volume carries)}. */
int web_api_volume_progress(struct web_request *rq)
{
    struct err err = ERR_INIT;
    char id[128];
    json_t *vols = NULL, *pages = NULL, *progress = NULL, *rows = NULL, *other = NULL, *out;
    const json_t *vol = NULL, *v, *p;
    json_int_t n_pages = 0, n_keyed_pages = 0, keyed = 0, verified = 0, registered = 0;
    size_t i;
    int rc;

    if (rq->w == NULL || rq->w->db == NULL)
        return web_send_error(rq->conn, 503, "database_unavailable", "the database cannot be read");
    if (rq->nparams < 1 || rq->params[0].len >= sizeof id)
        return web_send_error(rq->conn, 400, "bad_request", "volume id too long");
    memcpy(id, rq->params[0].p, rq->params[0].len);
    id[rq->params[0].len] = '\0';
    if (scan_volume_list(rq->w->db, &vols, &err) != 0)
        return web_send_failure(rq->conn, &err);
    json_array_foreach(vols, i, v) {
        if (json_is_string(json_object_get(v, "id")) &&
            strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
            vol = v;
    }
    if (vol == NULL) {
        json_decref(vols);
        return web_send_error(rq->conn, 404, "not_found", "no such volume");
    }
    if (scan_volume_pages(rq->w->db, id, &pages, &err) != 0 ||
        registry_volume_progress(rq->w->db, rq->session->actor,
                                 json_string_value(json_object_get(vol, "office")),
                                 (int)json_integer_value(json_object_get(vol, "year")),
                                 json_string_value(json_object_get(vol, "volume")), &progress,
                                 &err) != 0) {
        rc = web_send_failure(rq->conn, &err);
        goto out;
    }
    rows = json_array();
    other = json_array();
    if (rows == NULL || other == NULL)
        goto oom;
    json_array_foreach(pages, i, p) {
        json_t *row;
        json_int_t n, k, ve, re;
        if (json_is_true(json_object_get(p, "separator")) ||
            !json_is_integer(json_object_get(p, "page_number")))
            continue;
        n = json_integer_value(json_object_get(p, "page_number"));
        k = count_at(progress, n, "keyed", true);
        ve = count_at(progress, n, "verified", false);
        re = count_at(progress, n, "registered", false);
        n_pages++;
        n_keyed_pages += k > 0;
        row = json_pack("{s:O?, s:I, s:I, s:I, s:I, s:O?}", "id", json_object_get(p, "id"),
                        "page_number", n, "keyed", k, "verified", ve, "registered", re,
                        "quality_flags", json_object_get(p, "quality_flags"));
        if (row == NULL || json_array_append_new(rows, row) != 0)
            goto oom;
    }
    json_array_foreach(progress, i, p) {
        keyed += json_integer_value(json_object_get(p, "keyed"));
        verified += json_integer_value(json_object_get(p, "verified"));
        registered += json_integer_value(json_object_get(p, "registered"));
        if (!json_is_true(json_object_get(p, "matched")) &&
            json_array_append(other, (json_t *)p) != 0)
            goto oom;
    }
    out = json_pack("{s:s, s:O, s:O, s:O, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:O, s:O}", "volume",
                    id, "office", json_object_get(vol, "office"), "year",
                    json_object_get(vol, "year"), "name", json_object_get(vol, "volume"), "totals",
                    "pages", n_pages, "pages_keyed", n_keyed_pages, "pages_to_key",
                    n_pages - n_keyed_pages, "keyed", keyed, "verified", verified, "registered",
                    registered, "pages", rows, "other_pages", other);
    if (out == NULL)
        goto oom;
    rc = web_send_owned(rq, 200, out);
    goto out;
oom:
    rc = web_send_error(rq->conn, 500, "internal", "out of memory");
out:
    json_decref(rows);
    json_decref(other);
    json_decref(progress);
    json_decref(pages);
    json_decref(vols);
    return rc;
}

/* ---- separator sheets ------------------------------------------------------- */

/* The next volume name after NAME (all digits, width kept: "09" -> "10");
 * -1 when NAME is not a number or would grow past 12 characters. */
static int next_volume(char *name, size_t size)
{
    size_t n = strlen(name);
    size_t i = n;

    if (n == 0 || strspn(name, "0123456789") != n)
        return -1;
    while (i > 0) {
        i--;
        if (name[i] != '9') {
            name[i]++;
            return 0;
        }
        name[i] = '0';
    }
    if (n + 2 > size || n + 1 > 12)
        return -1;
    memmove(name + 1, name, n + 1);
    name[0] = '1';
    return 0;
}

/* SEPS[0..COUNT) from OFFICE, YEAR, VOLUME and COUNT (volumes VOLUME,
 * VOLUME+1, ...). 0, or -1 with a message in ERR (the request is wrong). */
static int separator_sheets(const char *office, long year, const char *volume, long count,
                            struct scan_separator *seps, struct err *err)
{
    char name[16], payload[64];

    if (count < 1 || count > SEPARATOR_MAX_SHEETS)
        return err_set(err, "between 1 and %d sheets", SEPARATOR_MAX_SHEETS);
    if (office == NULL || office[0] == '\0' || strlen(office) >= sizeof seps[0].office)
        return err_set(err, "the office code has 1 to 8 characters");
    if (year < 1000 || year > 9999)
        return err_set(err, "the year has four digits");
    if (volume == NULL || volume[0] == '\0' || strlen(volume) >= sizeof seps[0].volume)
        return err_set(err, "the volume has 1 to 12 characters");
    memcpy(name, volume, strlen(volume) + 1);
    for (long i = 0; i < count; i++) {
        if (i > 0 && next_volume(name, sizeof name) != 0)
            return err_set(err, "several sheets need a volume number (digits only)");
        memset(&seps[i], 0, sizeof seps[i]);
        memcpy(seps[i].office, office, strlen(office) + 1);
        memcpy(seps[i].volume, name, strlen(name) + 1);
        seps[i].year = (int)year;
        if (scan_separator_format(&seps[i], payload, sizeof payload, err) != 0)
            return -1;
    }
    return 0;
}

static long parse_long(const char *s, long dflt)
{
    char *end;
    long v;

    if (s == NULL || s[0] == '\0')
        return dflt;
    v = strtol(s, &end, 10);
    return *end == '\0' && v >= 0 && v < 100000 ? v : -1;
}

static int query(const struct web_request *rq, const char *name, char *out, size_t size)
{
    const char *q = rq->ri->query_string;

    out[0] = '\0';
    if (q == NULL)
        return 0;
    return mg_get_var(q, strlen(q), name, out, size) < -1 ? -1 : 0;
}

/* GET /api/v1/separators?office=&year=&volume=&count=: the sheets as they
 * will print: {sheets: [{office, year, volume, payload, bars}]}, BARS the
 * Code 128 module widths (bar, space, bar, ...). OFFICE defaults to the
 * user's office. Without any parameter: the form's defaults, {sheets: [],
 * office (the user's), year (this year, UTC)}. */
int web_api_separator_preview(struct web_request *rq)
{
    struct err err = ERR_INIT;
    struct scan_separator seps[SEPARATOR_MAX_SHEETS];
    char office[32], year[16], volume[32], count[16], payload[64];
    unsigned char widths[1024];
    json_t *sheets, *out;
    long n;

    if (query(rq, "office", office, sizeof office) != 0 || query(rq, "year", year, sizeof year) != 0 ||
        query(rq, "volume", volume, sizeof volume) != 0 || query(rq, "count", count, sizeof count) != 0)
        return web_send_error(rq->conn, 400, "bad_request", "a parameter is too long");
    if (office[0] == '\0')
        (void)snprintf(office, sizeof office, "%s", registry_actor_office(rq->session->actor));
    if (year[0] == '\0' && volume[0] == '\0' && count[0] == '\0') {
        time_t now = time(NULL);
        struct tm tm;
        if (gmtime_r(&now, &tm) == NULL)
            return web_send_error(rq->conn, 500, "internal", "no clock");
        if ((out = json_pack("{s:[], s:s, s:i}", "sheets", "office", office, "year",
                             tm.tm_year + 1900)) == NULL)
            return web_send_error(rq->conn, 500, "internal", "out of memory");
        return web_send_owned(rq, 200, out);
    }
    n = parse_long(count, 1);
    if (separator_sheets(office, parse_long(year, -1), volume, n, seps, &err) != 0)
        return web_send_error(rq->conn, 422, "bad_separator", err_msg(&err));
    if ((sheets = json_array()) == NULL)
        return web_send_error(rq->conn, 500, "internal", "out of memory");
    for (long i = 0; i < n; i++) {
        json_t *bars = json_array(), *s;
        int nw;
        if (bars == NULL || scan_separator_format(&seps[i], payload, sizeof payload, &err) != 0 ||
            (nw = scan_code128_widths(payload, widths, sizeof widths, &err)) < 0) {
            json_decref(bars);
            json_decref(sheets);
            return web_send_error(rq->conn, 422, "bad_separator", err_msg(&err));
        }
        for (int k = 0; k < nw; k++)
            (void)json_array_append_new(bars, json_integer(widths[k]));
        s = json_pack("{s:s, s:i, s:s, s:s, s:o}", "office", seps[i].office, "year",
                      seps[i].year, "volume", seps[i].volume, "payload", payload, "bars", bars);
        if (s == NULL || json_array_append_new(sheets, s) != 0) {
            json_decref(sheets);
            return web_send_error(rq->conn, 500, "internal", "out of memory");
        }
    }
    if ((out = json_pack("{s:o}", "sheets", sheets)) == NULL)
        return web_send_error(rq->conn, 500, "internal", "out of memory");
    return web_send_owned(rq, 200, out);
}

#ifdef HAVE_SEPARATOR_PDF
/* POST /api/v1/separators {office?, year, volume, count?}: the sheets as one
 * PDF (download), one A4 page per volume. */
int web_api_separator_print(struct web_request *rq)
{
    static const char *const keys[] = { "office", "year", "volume", "count", NULL };
    struct err err = ERR_INIT;
    struct scan_separator seps[SEPARATOR_MAX_SHEETS];
    struct buf pdf = BUF_INIT(SEPARATOR_PDF_MAX);
    const char *office = NULL, *volume = NULL;
    const json_t *year, *count;
    char name[96];
    json_t *in = NULL;
    long n;
    int rc;

    if ((rc = web_read_json(rq->conn, &in)) != 0)
        return rc;
    if (json_check_keys(in, keys, &err) != 0 ||
        json_get_string(in, "office", false, &office, &err) != 0 ||
        json_get_string(in, "volume", true, &volume, &err) != 0) {
        rc = web_send_error(rq->conn, 400, "bad_request", err_msg(&err));
        goto out;
    }
    year = json_object_get(in, "year");
    count = json_object_get(in, "count");
    if (!json_is_integer(year) || (count != NULL && !json_is_integer(count))) {
        rc = web_send_error(rq->conn, 400, "bad_request", "year and count are integers");
        goto out;
    }
    if (office == NULL || office[0] == '\0')
        office = registry_actor_office(rq->session->actor);
    n = count ? (long)json_integer_value(count) : 1;
    if (json_integer_value(year) > 9999 || json_integer_value(year) < 0 ||
        separator_sheets(office, (long)json_integer_value(year), volume, n, seps, &err) != 0) {
        rc = web_send_error(rq->conn, 422, "bad_separator",
                            err_msg(&err)[0] ? err_msg(&err) : "the year has four digits");
        goto out;
    }
    if (print_separator_pdf_buf(seps, (size_t)n, &pdf, &err) != 0) {
        rc = web_send_failure(rq->conn, &err);
        goto out;
    }
    (void)snprintf(name, sizeof name, "separator-%s-%04d-%s.pdf", seps[0].office, seps[0].year,
                   seps[0].volume);
    rc = web_send_download(rq->conn, "application/pdf", name, pdf.data, pdf.len);
out:
    buf_release(&pdf);
    json_decref(in);
    return rc;
}
#endif

#endif
