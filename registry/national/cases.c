/* civreg national tier, the district side: the cross-district duplicate
 * cases of this office as the national tier lists them, and their
 * resolution by a registrar (a signed national.duplicate event, pushed).
 * The command line (`civreg sync duplicates|resolve`) and the web screen
 * (web/api_national.c) both go through here. */
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "national_int.h"

int national_dup_cases(struct national_client *c, json_t **cases, struct err *err)
{
    json_t *resp = NULL;

    *cases = NULL;
    if (nat_client_call(c, "/national/v1/duplicates", json_object(), "national tier", &resp,
                        err) != 0) {
        /* a refusal of the service (a transport failure names itself) */
        if (err_code_of(err) == NULL)
            err_code(err, "national_refused", NULL);
        return -1;
    }
    if (!json_is_array(json_object_get(resp, "cases"))) {
        json_decref(resp);
        err_setk(err, ERR_INTERNAL, "national tier: the duplicates answer has no cases");
        return err_code(err, "national_refused", NULL);
    }
    *cases = json_incref(json_object_get(resp, "cases"));
    json_decref(resp);
    return 0;
}

int national_dup_resolve_case(struct national_client *c, struct db *db,
                              const struct registry_actor *actor, long long id, bool same,
                              const char *reason, long long *seq, uint64_t *held,
                              struct err *err)
{
    struct national_push_stats st;
    json_t *cases = NULL, *x, *dcase = NULL;
    size_t i;
    int rc = -1;

    *seq = -1;
    *held = 0;
    /* the registrar's right first: a clerk learns nothing of the cases */
    if (registry_require_action(actor, "duplicate.resolve", err) != 0 ||
        national_dup_cases(c, &cases, err) != 0)
        return -1;
    json_array_foreach(cases, i, x)
        if (json_integer_value(json_object_get(x, "id")) == id)
            dcase = x;
    if (dcase == NULL) {
        err_setk(err, ERR_NOT_FOUND, "no duplicate case %lld of this office at the national tier",
                 id);
        err_code(err, "national_case_unknown", NULL);
        goto out;
    }
    if (registry_national_dup_resolve(db, actor, dcase, same, reason, seq, err) != 0)
        goto out;
    /* the decision is in this office's log; the push records it nationally
     * (the background sync would, later, when this one fails) */
    if (national_sync_push(c, db, 0, &st, err) != 0)
        goto out;
    *held = st.to;
    rc = 0;
out:
    json_decref(cases);
    return rc;
}
