/* civreg web: the public seal verification (no sign-in). Anyone holding a
 * certified extract can upload a scan or photo of it, or paste the seal
 * text, and learn whether the seal holds under this office's CSCA
 * certificates. Throttled per client address, since it is open to all and
 * decoding a picture costs CPU; and bounded for all addresses together: one
 * page of a few megapixels, a few seconds of work, a few checks at once
 * (struct web_seal_limits), so no upload can take the server down. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/conf.h"
#include "core/log.h"
#include "scanner/image.h"
#include "web_int.h"

int web_seal_limits_new(const struct conf *conf, struct web_seal_limits **out, struct err *err)
{
    struct web_seal_limits *l = calloc(1, sizeof *l);

    *out = NULL;
    if (l == NULL)
        return err_setk(err, ERR_INTERNAL, "seal: out of memory");
    /* 12 Mpx: an A4 extract at 300 dpi (8.7 Mpx) or a phone photo. */
    if (conf_get_uint(conf, "seal_verify_megapixels", 12, 1, 150, &l->megapixels, err) != 0 ||
        conf_get_uint(conf, "seal_verify_seconds", 3, 1, 60, &l->seconds, err) != 0 ||
        conf_get_uint(conf, "seal_verify_concurrent", 2, 1, 64, &l->concurrent, err) != 0 ||
        conf_get_uint(conf, "seal_verify_queue", 4, 0, 1000, &l->queue, err) != 0 ||
        conf_get_uint(conf, "seal_verify_queue_wait_ms", 1000, 0, 60000, &l->queue_wait_ms,
                      err) != 0 ||
        web_gate_new((unsigned)l->concurrent, (unsigned)l->queue, &l->gate, err) != 0) {
        free(l);
        return -1;
    }
    *out = l;
    return 0;
}

void web_seal_limits_free(struct web_seal_limits *l)
{
    if (l == NULL)
        return;
    web_gate_free(l->gate);
    free(l);
}

#ifdef CIVREG_HAVE_PASSPORT
#include "issuance/icao/icao.h"

/* A picture refused before its seal was looked at: a client error, with a
 * code the page translates. */
static int send_refused(struct mg_connection *conn, int st, const struct err *err)
{
    if (st == SCAN_E_LIMIT)
        return web_send_error(conn, 413, "picture_too_large", err_msg(err));
    if (st == SCAN_E_DEADLINE)
        return web_send_error(conn, 422, "picture_too_costly",
                              "the picture took too long to read; send a scan of the extract "
                              "at 200 to 300 dpi");
    return web_send_error(conn, 422, "picture_unreadable", err_msg(err));
}

int web_api_seal_verify(struct web_request *rq)
{
    static const char *const images[] = { "image/png", "image/jpeg", "image/tiff", NULL };
    const char *ct = mg_get_header(rq->conn, "Content-Type");
    const char *addr = web_client_addr(rq);
    struct buf body = BUF_INIT(WEB_MAX_UPLOAD), csca = BUF_INIT((size_t)4 << 20);
    struct err err = ERR_INIT;
    json_t *result = NULL;
    bool image = false, text = false;
    time_t wait, now = time(NULL);
    const struct web_seal_limits *sl = rq->srv->seal;
    struct scan_limits lim = SCAN_LIMITS_DEFAULT;
    char retry[24], msg[96];
    size_t ctlen;
    int st, rc;

    wait = web_throttle_check(rq->srv->seal_throttle, addr, addr, now);
    if (wait > 0) {
        (void)snprintf(retry, sizeof retry, "%lld", (long long)wait);
        return web_send_error_hdr(rq->conn, 429, "too_many_requests",
                                  "too many seal checks from this address; try again later",
                                  "Retry-After", retry);
    }
    /* every check counts, valid or not: the cost is the decoding */
    web_throttle_failure(rq->srv->seal_throttle, addr, addr, now);

    ctlen = ct ? strcspn(ct, ";") : 0;
    for (size_t i = 0; ct && images[i]; i++)
        if (ctlen == strlen(images[i]) && strncmp(ct, images[i], ctlen) == 0)
            image = true;
    text = ct && ((ctlen == 10 && strncmp(ct, "text/plain", 10) == 0) ||
                  (ctlen == 16 && strncmp(ct, "application/json", 16) == 0));
    if (!image && !text)
        return web_send_error(rq->conn, 415, "unsupported_media_type",
                              "send a scan (image/png, image/jpeg, image/tiff) or the seal text "
                              "(text/plain)");
    st = web_read_body(rq->conn, image ? WEB_MAX_UPLOAD : VDS_PAYLOAD_MAX, &body);
    if (st != 0 || body.len == 0) {
        buf_release(&body);
        (void)snprintf(msg, sizeof msg, "the %s must be 1 byte to %u bytes",
                       image ? "scan" : "seal text",
                       image ? WEB_MAX_UPLOAD : (unsigned)VDS_PAYLOAD_MAX);
        return web_send_error(rq->conn, st == 413 ? 413 : 400,
                              st == 413 ? "too_large" : "bad_request", msg);
    }
    /* Shared by every address: beyond the running and queued checks, a
     * check is turned away at once rather than piling up. Time spent in the
     * queue counts against the check's time budget. */
    lim.deadline_ms = scan_clock_ms() + (int64_t)sl->seconds * 1000;
    if (web_gate_enter(sl->gate, (unsigned)(sl->queue_wait_ms < sl->seconds * 1000
                                                ? sl->queue_wait_ms
                                                : sl->seconds * 1000)) != 0) {
        buf_release(&body);
        (void)snprintf(retry, sizeof retry, "%lu", sl->seconds);
        return web_send_error_hdr(rq->conn, 503, "busy",
                                  "the seal check is busy; try again in a few seconds",
                                  "Retry-After", retry);
    }
    /* The trust anchors come from the server's cache on this worker's
     * connection; no private key is involved in checking a seal. */
    if (web_trust_anchors(rq, now, &csca, &err) != 0) {
        log_error("web: seal check: no CSCA: %s", err_msg(&err));
        rc = web_send_error(rq->conn, 503, "unavailable",
                            "this office has no CSCA certificate to check seals against");
        goto out;
    }
    if (image) {
        lim.max_pages = 1;
        lim.max_pixels = lim.max_total_pixels = (uint64_t)sl->megapixels * 1000000u;
        st = vds_verify_image(body.data, body.len, "the upload", &lim, csca.data, csca.len, now,
                              &result, &err);
        if (st != 0 && st != -1) {
            rc = send_refused(rq->conn, st, &err);
            goto out;
        }
    } else {
        size_t n = body.len;
        while (n > 0 && (body.data[n - 1] == '\n' || body.data[n - 1] == '\r' ||
                         body.data[n - 1] == ' '))
            n--;
        st = vds_verify((const char *)body.data, n, csca.data, csca.len, now, &result, &err);
    }
    if (st != 0) {
        /* the answer to "is this seal genuine?" is no: a result, not an
         * error of the request */
        rc = web_send_json(rq->conn, 200,
                           result = json_pack("{s:b, s:s}", "valid", 0, "error", err_msg(&err)));
        goto out;
    }
    rc = web_send_json(rq->conn, 200, result);
out:
    json_decref(result);
    buf_release(&body);
    buf_release(&csca);
    web_gate_leave(sl->gate);
    return rc;
}
#endif
