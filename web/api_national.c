/* civreg web: the registrar's screen for cross-district duplicate cases
 * (the same birth registered in two offices). The cases come from the
 * national tier (national_url in civreg.conf) at each request, through the
 * same district client and the same resolution as `civreg sync duplicates`
 * and `civreg sync resolve` (registry/national/cases.c): a signed
 * national.duplicate event in this office's log, then a push. Every call
 * to the national tier is bounded (national_timeout_seconds); a tier not
 * configured answers 503, one that cannot be reached 502, one that does
 * not answer in time 504. Built with the registry and the national tier. */
#include "web_int.h"

#if defined(CIVREG_HAVE_REGISTRY) && defined(CIVREG_HAVE_NATIONAL)

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/json.h"
#include "core/log.h"
#include "registry/national/national.h"
#include "registry/registry.h"

/* A client of the configured national tier, signing as this office, its
 * time bounded; NULL with the answer already sent. */
static struct national_client *client_of(struct web_request *rq, int *rc)
{
    struct national_client *c = NULL;
    struct err err = ERR_INIT;

    if (rq->srv->national_url == NULL || rq->srv->national_url[0] == '\0') {
        *rc = web_send_error(rq->conn, 503, "national_unconfigured",
                             "no national tier is configured (national_url in civreg.conf)");
        return NULL;
    }
    if (national_client_open(rq->srv->national_url,
                             conf_get(rq->srv->dd->conf, "national_ca", NULL),
                             (int)rq->srv->national_timeout, rq->w->db, rq->srv->dd->keys_dir, &c,
                             &err) != 0) {
        err_kind_set(&err, ERR_INTERNAL);
        *rc = web_send_failure(rq->conn, &err);
        return NULL;
    }
    return c;
}

int web_api_national_duplicates(struct web_request *rq)
{
    struct national_client *c;
    struct err err = ERR_INIT;
    json_t *cases = NULL;
    int rc = 0;

    WEB_NEED_DB(rq);
    if ((c = client_of(rq, &rc)) == NULL)
        return rc;
    if (national_dup_cases(c, &cases, &err) != 0)
        rc = web_send_failure(rq->conn, &err);
    else
        rc = web_send_owned(rq, 200, json_pack("{s:s, s:o}", "office", rq->session->office,
                                               "cases", cases));
    national_client_free(c);
    return rc;
}

int web_api_national_duplicate_resolve(struct web_request *rq)
{
    static const char *const keys[] = { "decision", "reason", NULL };
    struct national_client *c = NULL;
    struct err err = ERR_INIT;
    const char *decision = NULL, *reason = NULL;
    char num[24], *end;
    long long id, seq = -1;
    uint64_t held = 0;
    json_t *in = NULL;
    int rc;

    WEB_NEED_DB(rq);
    if (web_param(rq, 0, num, sizeof num) != 0 || (id = strtoll(num, &end, 10)) < 1 ||
        *end != '\0' || id > 2000000000LL)
        return web_send_error(rq->conn, 404, "national_case_unknown", "no such case number");
    if ((rc = web_read_json(rq->conn, &in)) != 0)
        return rc;
    if (json_check_keys(in, keys, &err) != 0 ||
        json_get_string(in, "decision", true, &decision, &err) != 0 ||
        json_get_string(in, "reason", true, &reason, &err) != 0 ||
        (strcmp(decision, "same") != 0 && strcmp(decision, "distinct") != 0) ||
        reason[0] == '\0') {
        rc = web_send_error(rq->conn, 400, "bad_request",
                            err_msg(&err)[0] ? err_msg(&err)
                                             : "decision (same or distinct) and reason (text) "
                                               "are required");
        goto out;
    }
    if ((c = client_of(rq, &rc)) == NULL)
        goto out;
    if (national_dup_resolve_case(c, rq->w->db, rq->session->actor, id,
                                  strcmp(decision, "same") == 0, reason, &seq, &held,
                                  &err) == 0)
        rc = web_send_owned(rq, 200, json_pack("{s:I, s:s, s:I, s:b, s:I}", "case",
                                               (json_int_t)id, "decision", decision, "event",
                                               (json_int_t)seq, "pushed", 1, "national_size",
                                               (json_int_t)held));
    else if (seq >= 0) {
        /* decided and signed here; the nation learns it at the next push */
        log_warn("web: case %lld resolved by event %lld, not pushed yet: %s", id, seq,
                 err_msg(&err));
        rc = web_send_owned(rq, 202, json_pack("{s:I, s:s, s:I, s:b, s:s}", "case",
                                               (json_int_t)id, "decision", decision, "event",
                                               (json_int_t)seq, "pushed", 0, "code",
                                               err_code_of(&err) ? err_code_of(&err)
                                                                 : "national_refused"));
    } else
        rc = web_send_failure(rq->conn, &err);
out:
    national_client_free(c);
    json_decref(in);
    return rc;
}

#endif
