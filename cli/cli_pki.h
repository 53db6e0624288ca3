/* civreg command line: PKI and chip commands act as a signed-in user, and
 * every PKI action they take becomes a signed event of the registry's
 * provenance log (issuance/ does not depend on registry/; this file joins
 * them). */
#ifndef CIVREG_CLI_PKI_H
#define CIVREG_CLI_PKI_H

#include <stdbool.h>

#include "cli_registry.h"

struct pki;

/* Sign in as USER (password from PASSWORD_FILE or stdin), check the user
 * holds one of ROLES (for WHAT), and connect P's event sink to the
 * registry's log as that user; from then on P refuses any action it cannot
 * record. Without USER and with NEED_USER false, P still refuses recorded
 * actions (read-only use). Prints failures; returns an exit code. S is closed
 * with cli_session_close after P is done. */
int cli_pki_sign_in(const char *command, const char *data, const char *user,
                    const char *password_file, bool need_user, unsigned roles, const char *what,
                    struct pki *p, struct cli_session *s);

/* Connect P's event sink to S's signed-in user (as cli_pki_sign_in, once S
 * is open and its command's access action checked). */
void cli_pki_attach(struct pki *p, struct cli_session *s);

#endif
