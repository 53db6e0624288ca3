/* civreg registry: the access policy — one table from action to roles.
 *
 * Every check of who may do what names an action of this table: the
 * registry's and the passport office's own checks, the command line, the
 * web route table, and the browser (the session answer lists the actions
 * the user may take). docs/access.md is generated from it
 * (`civreg access --markdown`). The rules it keeps: the admin role manages
 * accounts and stock but reads no personal data; the auditor reads and
 * traces but changes nothing; four eyes between keying and verifying, and
 * between enrolling and approving, are checked in the operations. */
#include <string.h>

#include "core/buf.h"
#include "registry.h"

#define C ROLE_CLERK
#define R ROLE_REGISTRAR
#define E ROLE_ENROLMENT_OFFICER
#define A ROLE_APPROVER
#define O ROLE_ISSUANCE_OPERATOR
#define AU ROLE_AUDITOR
#define AD ROLE_ADMIN

const struct registry_action registry_actions[] = {
    { "session", REGISTRY_ROLES_ALL, "sign out, language, home page, API description" },
    { "queue.read", C | R | E | A | O | AU, "read one's work queues and their counts" },
    /* Birth records. */
    { "record.read", C | R | E | A | AU, "read and search records, their history and evidence" },
    { "record.draft", C, "key a new record" },
    { "record.import", C, "draft records from a JSON Lines file" },
    { "record.verify", C, "re-key a draft blind (not the clerk who keyed it)" },
    { "record.register", R, "register a verified record" },
    { "record.correct", C | R, "correct a record (a registered one: registrar only)" },
    { "record.duplicates", C | R | AU, "read possible duplicates" },
    { "duplicate.resolve", R, "resolve a possible duplicate pair" },
    { "duplicate.national", R, "see the office's cross-district duplicate cases" },
    { "person.read", C | R | E | A | AU, "read a person by UIN" },
    { "evidence.add", C | R | E | A | O, "store a scan or document as evidence" },
    { "death.register", R, "register a death" },
    { "death.read", C | R | E | A | AU, "read a registered death" },
    { "extract.issue", C | R, "issue a certified extract" },
    { "extract.read", C | R | AU, "list the certified extracts issued of a record" },
    { "search.reindex", R | AD, "rebuild the search index" },
    /* Provenance. */
    { "audit.trace", R | AU, "trace a record, UIN or document; export a bundle" },
    { "audit.head", AU | AD, "read the latest signed tree head" },
    /* Accounts. */
    { "user.list", AD | AU, "list users" },
    { "user.manage", AD, "add, disable, set roles, reset passwords" },
    /* Digitization. */
    { "scan.import", C, "upload and import scanned volumes" },
    { "scan.read", C | R | AU, "read volumes and pages" },
    { "scan.separator", C | R, "print volume separator sheets" },
    /* The passport office. */
    { "application.read", E | A | O | AU, "read applications and their files" },
    { "application.enrol", E, "enrol an applicant" },
    { "application.advance", A | O, "act on an application (approve ... collect)" },
    { "application.approve", A, "approve or reject (not the enrolling officer)" },
    { "application.produce", O, "personalize, quality control, issue" },
    { "application.collect", E | O, "hand the document to the holder" },
    { "document.read", E | A | O | AU, "read documents and alerts" },
    { "document.status", E | A | AD, "change a document's status" },
    { "document.report_loss", E | A, "mark a document lost or stolen" },
    { "document.revoke", A | AD, "revoke, cancel or expire a document" },
    { "booklet.read", E | A | O | AU | AD, "read the booklet stock" },
    { "booklet.manage", O | AD, "receive deliveries, spoil booklets" },
    { "numbers.manage", AD, "set document number patterns" },
    { "pki.manage", AD, "the ICAO PKI: CSCA, signers, CRLs, master list" },
    { "chip.personalize", O | AD, "sign chip contents" },
    { NULL, 0, NULL },
};

unsigned registry_action_roles(const char *action)
{
    for (const struct registry_action *a = registry_actions; action && a->name; a++)
        if (strcmp(a->name, action) == 0)
            return a->roles;
    return 0;
}

bool registry_roles_may(unsigned roles, const char *action)
{
    return (registry_action_roles(action) & roles) != 0;
}

int registry_require_action(const struct registry_actor *a, const char *action,
                            struct err *err)
{
    unsigned need = registry_action_roles(action);
    char what[64];
    size_t i = 0;

    if (need == 0)
        return err_setk(err, ERR_INTERNAL, "%s: no such action in the access policy", action);
    /* The message names the action in words: "audit trace: refused: ..." */
    for (; action[i] != '\0' && i + 1 < sizeof what; i++)
        what[i] = action[i] == '.' ? ' ' : action[i];
    what[i] = '\0';
    return registry_require_role(a, need, what, err);
}

json_t *registry_actions_json(unsigned roles)
{
    json_t *arr = json_array();

    for (const struct registry_action *a = registry_actions; arr && a->name; a++)
        if ((a->roles & roles) && json_array_append_new(arr, json_string(a->name)) != 0) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

char *registry_access_markdown(void)
{
    struct buf b = BUF_INIT(64 * 1024);
    static const unsigned order[] = { C, R, E, A, O, AU, AD };
    char *out = NULL;
    int rc = buf_printf(&b, "| action | clerk | registrar | enrolment_officer | approver | "
                            "issuance_operator | auditor | admin | what |\n"
                            "|---|---|---|---|---|---|---|---|---|\n");

    for (const struct registry_action *a = registry_actions; rc == 0 && a->name; a++) {
        rc = buf_printf(&b, "| `%s` |", a->name);
        for (size_t i = 0; rc == 0 && i < sizeof order / sizeof order[0]; i++)
            rc = buf_printf(&b, " %s |", (a->roles & order[i]) ? "yes" : "");
        if (rc == 0)
            rc = buf_printf(&b, " %s |\n", a->what);
    }
    if (rc == 0)
        out = (char *)buf_detach(&b, NULL);
    buf_release(&b);
    return out;
}
