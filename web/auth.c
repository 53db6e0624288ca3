/* civreg web: the bridge between sign-in and the registry's users. The
 * registry checks the Argon2id hash and unlocks the user's signing key; the
 * actor it returns lives in the session until sign-out or expiry. */
#include <stdio.h>
#include <string.h>

#include "web_int.h"

#ifdef CIVREG_HAVE_REGISTRY
#include "registry/registry.h"

#define SAME(a, b) ((unsigned)(a) == (unsigned)(b))
_Static_assert(SAME(WEB_ROLE_CLERK, ROLE_CLERK) && SAME(WEB_ROLE_REGISTRAR, ROLE_REGISTRAR) &&
                   SAME(WEB_ROLE_ENROLMENT_OFFICER, ROLE_ENROLMENT_OFFICER) &&
                   SAME(WEB_ROLE_APPROVER, ROLE_APPROVER) &&
                   SAME(WEB_ROLE_ISSUANCE_OPERATOR, ROLE_ISSUANCE_OPERATOR) &&
                   SAME(WEB_ROLE_AUDITOR, ROLE_AUDITOR) && SAME(WEB_ROLE_ADMIN, ROLE_ADMIN),
               "web role bits must equal the registry's");

static void copy(char *dst, size_t size, const char *src)
{
    (void)snprintf(dst, size, "%s", src ? src : "");
}

int web_authenticate(struct web_request *rq, const char *username, const char *password,
                     void **actor, struct web_identity *id, struct err *err)
{
    struct registry_actor *a = NULL;

    *actor = NULL;
    if (rq->w == NULL || rq->w->db == NULL)
        return err_set(err, "sign-in: the database is not available");
    if (registry_authenticate(rq->w->db, rq->srv->dd->keys_dir, username, password, &a, err) != 0)
        return 1;
    copy(id->username, sizeof id->username, registry_actor_username(a));
    copy(id->office, sizeof id->office, registry_actor_office(a));
    id->roles = registry_actor_roles(a) & WEB_ROLES_ALL;
    *actor = a;
    return 0;
}

int web_account_current(struct web_request *rq, void *actor, struct err *err)
{
    if (rq->w == NULL || rq->w->db == NULL)
        return err_set(err, "the database is not available");
    return registry_actor_current(rq->w->db, actor, err);
}

void web_actor_free(void *actor)
{
    registry_actor_free(actor);
}

#else

/* Built without the registry module: there are no users to sign in. */
int web_authenticate(struct web_request *rq, const char *username, const char *password,
                     void **actor, struct web_identity *id, struct err *err)
{
    (void)rq;
    (void)username;
    (void)password;
    (void)id;
    *actor = NULL;
    return err_set(err, "sign-in: this build has no registry module, so no users");
}

int web_account_current(struct web_request *rq, void *actor, struct err *err)
{
    (void)rq;
    (void)actor;
    (void)err;
    return 0;
}

void web_actor_free(void *actor)
{
    (void)actor;
}

#endif
