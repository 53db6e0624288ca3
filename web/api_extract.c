/* civreg web: certified birth extracts printed from the browser (clerks and
 * registrars). The same registry call as `civreg extract issue`, sealed by
 * the worker's PKI handle (its barcode signer), rendered by issuance's
 * extract_pdf, and sent as a PDF download the browser prints. A second
 * extract of a record is a reprint: it needs a reason, which is signed in
 * the extract.issue event. */
#include "web_int.h"

#if defined(CIVREG_HAVE_REGISTRY) && defined(CIVREG_HAVE_PASSPORT) &&                           \
    __has_include("issuance/pki/pki.h")
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"
#include "issuance/print/print.h"
#include "issuance/pki/pki.h"
#include "issuance/icao/icao.h"
#include "registry/registry.h"

#define ID_MAX 128

static int param0(const struct web_request *rq, char *out, size_t size)
{
    if (rq->nparams < 1 || rq->params[0].len >= size)
        return -1;
    memcpy(out, rq->params[0].p, rq->params[0].len);
    out[rq->params[0].len] = '\0';
    return 0;
}

static int barcode_sign(void *ctx, const void *msg, size_t len, unsigned char sig[VDS_SIG_BYTES],
                        struct buf *cert_der, struct err *err)
{
    return pki_barcode_sign(ctx, msg, len, time(NULL), sig, cert_der, err);
}

static int seal_with_pki(void *ctx, const json_t *data, json_t **seal, struct err *err)
{
    return vds_seal(data, barcode_sign, ctx, seal, err);
}

static int failure(struct web_request *rq, const struct err *err)
{
    const char *m = err_msg(err);

    if (strstr(m, "no record") != NULL)
        return web_send_error(rq->conn, 404, "not_found", m);
    if (strstr(m, " may not ") != NULL)
        return web_send_error(rq->conn, 403, "forbidden", m);
    if (strstr(m, "a reprint needs a reason") != NULL)
        return web_send_error(rq->conn, 422, "reason_required", m);
    if (strstr(m, "only registered births") != NULL)
        return web_send_error(rq->conn, 422, "not_registered", m);
    if (strstr(m, "database") != NULL || strstr(m, "out of memory") != NULL) {
        log_error("web: %s %s: %s", rq->ri->request_method, rq->path, m);
        return web_send_error(rq->conn, 500, "internal", "the extract could not be made");
    }
    return web_send_error(rq->conn, 422, "rejected", m);
}

int web_api_extract_list(struct web_request *rq)
{
    struct err err = ERR_INIT;
    char id[ID_MAX];
    json_t *out = NULL;
    int rc;

    if (rq->w == NULL || rq->w->db == NULL)
        return web_send_error(rq->conn, 503, "database_unavailable", "the database cannot be read");
    if (param0(rq, id, sizeof id) != 0)
        return web_send_error(rq->conn, 400, "bad_request", "record id too long");
    if (registry_extract_list(rq->w->db, rq->session->actor, id, &out, &err) != 0)
        return failure(rq, &err);
    rc = web_send_json(rq->conn, 200, out);
    json_decref(out);
    return rc;
}

int web_api_extract_print(struct web_request *rq)
{
    static const char *const keys[] = { "reason", NULL };
    struct err err = ERR_INIT;
    struct buf pdf = BUF_INIT(EXTRACT_PDF_MAX);
    char id[ID_MAX], name[ID_MAX + 32];
    const char *reason = NULL;
    json_t *in = NULL, *x = NULL;
    struct pki *p;
    int rc;

    if (rq->w == NULL || rq->w->db == NULL)
        return web_send_error(rq->conn, 503, "database_unavailable", "the database cannot be read");
    if (param0(rq, id, sizeof id) != 0)
        return web_send_error(rq->conn, 400, "bad_request", "record id too long");
    if ((rc = web_read_json(rq->conn, &in)) != 0)
        return rc;
    if (json_check_keys(in, keys, &err) != 0 ||
        json_get_string(in, "reason", false, &reason, &err) != 0) {
        rc = web_send_error(rq->conn, 400, "bad_request", err_msg(&err));
        goto out;
    }
    if ((p = web_worker_pki(rq, &err)) == NULL) {
        log_error("web: extract: no PKI: %s", err_msg(&err));
        rc = web_send_error(rq->conn, 503, "no_pki",
                            "the office has no barcode signer to seal extracts with");
        goto out;
    }
    /* rendered before it is sent; the extract is recorded once sealed */
    if (registry_extract_print(rq->w->db, rq->session->actor, id, reason, true, seal_with_pki, p,
                               &x, &err) != 0) {
        rc = failure(rq, &err);
        goto out;
    }
    if (extract_pdf_render(x, NULL, &pdf, &err) != 0) {
        log_error("web: extract %s: %s", json_string_value(json_object_get(x, "id")),
                  err_msg(&err));
        rc = web_send_error(rq->conn, 500, "internal", "the extract could not be rendered");
        goto out;
    }
    (void)snprintf(name, sizeof name, "extract-%s.pdf", json_string_value(json_object_get(x, "id")));
    rc = web_send_download(rq->conn, "application/pdf", name, pdf.data, pdf.len);
out:
    buf_release(&pdf);
    json_decref(x);
    json_decref(in);
    return rc;
}
#endif
