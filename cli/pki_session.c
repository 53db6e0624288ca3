#include <stdio.h>

#include "cli.h"
#include "cli_pki.h"
#include "issuance/pki/pki.h"
#include "registry/registry.h"

/* The event sink: the registry signs the event with the actor's key and
 * appends it to the log inside the PKI's own transaction. */
static int append_event(void *ctx, struct db *db, const char *type, const json_t *objects,
                        const json_t *data, struct err *err)
{
    const struct registry_actor *actor = ctx;
    return registry_event_append(db, actor, type, objects, data, NULL, err);
}

void cli_pki_attach(struct pki *p, struct cli_session *s)
{
    pki_require_events(p, true);
    if (s->actor)
        pki_set_event_sink(p, append_event, s->actor);
}

int cli_pki_sign_in(const char *command, const char *data, const char *user,
                    const char *password_file, bool need_user, unsigned roles, const char *what,
                    struct pki *p, struct cli_session *s)
{
    struct err err = ERR_INIT;
    int rc = cli_session_open(command, data, user, password_file, need_user, s);

    if (rc != EXIT_OK)
        return rc;
    pki_require_events(p, true);
    if (s->actor == NULL)
        return EXIT_OK;
    if (registry_require_role(s->actor, roles, what, &err) != 0) {
        cli_session_close(s);
        return cli_fail(command, &err);
    }
    pki_set_event_sink(p, append_event, s->actor);
    return EXIT_OK;
}
