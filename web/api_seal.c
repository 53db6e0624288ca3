/* civreg web: the public seal verification (no sign-in). Anyone holding a
 * certified extract can upload a scan or photo of it, or paste the seal
 * text, and learn whether the seal holds under this office's CSCA
 * certificates. Throttled per client address, since it is open to all and
 * decoding a picture costs CPU. */
#ifdef CIVREG_HAVE_PASSPORT
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "issuance/vds.h"
#include "web_int.h"

int web_api_seal_verify(struct web_request *rq)
{
    static const char *const images[] = { "image/png", "image/jpeg", "image/tiff", NULL };
    const char *ct = mg_get_header(rq->conn, "Content-Type");
    const char *addr = web_client_addr(rq->conn);
    struct buf body = BUF_INIT(WEB_MAX_UPLOAD), csca = BUF_INIT((size_t)4 << 20);
    struct err err = ERR_INIT;
    json_t *result = NULL;
    bool image = false, text = false;
    time_t wait, now = time(NULL);
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
    /* The trust anchors come from the server's cache on this worker's
     * connection; no private key is involved in checking a seal. */
    if (web_trust_anchors(rq, now, &csca, &err) != 0) {
        log_error("web: seal check: no CSCA: %s", err_msg(&err));
        rc = web_send_error(rq->conn, 503, "unavailable",
                            "this office has no CSCA certificate to check seals against");
        goto out;
    }
    if (image) {
        st = vds_verify_image(body.data, body.len, "the upload", csca.data, csca.len, now,
                              &result, &err);
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
    return rc;
}
#endif
