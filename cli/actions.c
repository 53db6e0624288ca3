/* civreg command line: the access action of each command, in one place.
 *
 * Every command that acts as a signed-in user names the action of the
 * access policy (registry/access.c) it takes; cli_session_open checks it
 * right after sign-in, before the command does anything, so a role the
 * policy leaves out is refused the same way by every command. A command
 * that takes no signed-in user names none (NULL). `civreg access --commands`
 * prints this table; test_access_policy runs every row as every role. */
#include <string.h>

#include "cli.h"

const struct cli_action cli_actions[] = {
    /* birth records, persons, deaths, extracts, evidence */
    { "record draft", "record.draft" },
    { "record verify", "record.verify" },
    { "record register", "record.register" },
    { "record correct", "record.correct" },
    { "record show", "record.read" },
    { "record history", "record.read" },
    { "record list", "record.read" },
    { "record import", "record.import" },
    { "search", "record.read" },
    { "search --reindex", "search.reindex" },
    { "duplicates list", "record.duplicates" },
    { "duplicates resolve", "duplicate.resolve" },
    { "person show", "person.read" },
    { "death register", "death.register" },
    { "death show", "death.read" },
    { "extract issue", "extract.issue" },
    { "evidence add", "evidence.add" },
    /* users: the first admin and one's own password need no signed-in user */
    { "user add", "user.manage" },
    { "user passwd", "user.manage" },
    { "user disable", "user.manage" },
    { "user roles", "user.manage" },
    { "user list", "user.list" },
    /* the signed log */
    { "audit verify", NULL },
    { "audit trace", "audit.trace" },
    { "audit proof", NULL },
    { "audit export", "audit.trace" },
    { "audit verify-bundle", NULL },
    { "audit head", NULL },
    /* scanned volumes */
    { "scan decode", NULL },
    { "scan check", NULL },
    { "scan separator", NULL },
    { "scan import", "scan.import" },
    { "scan volumes", NULL },
    { "scan pages", NULL },
    { "scan page", NULL },
    /* the passport office */
    { "application enrol", "application.enrol" },
    { "application approve", "application.approve" },
    { "application reject", "application.approve" },
    { "application personalize", "application.produce" },
    { "application qc", "application.produce" },
    { "application issue", "application.produce" },
    { "application collect", "application.collect" },
    { "application show", "application.read" },
    { "application list", "application.read" },
    { "application datapage", "application.read" },
    { "application chip", "application.read" },
    { "document datapage", NULL },
    { "document status", "document.status" },
    { "document show", "document.read" },
    { "document expire", "document.revoke" },
    { "document alerts", "document.read" },
    { "document trace", "audit.trace" },
    { "document series", "document.read" },
    { "document series --pattern", "numbers.manage" },
    { "booklet receive", "booklet.manage" },
    { "booklet spoil", "booklet.manage" },
    { "booklet report", "booklet.read" },
    { "booklet show", "booklet.read" },
    /* the ICAO PKI and chips */
    { "pki init", "pki.manage" },
    { "pki rollover", "pki.manage" },
    { "pki issue-ds", "pki.manage" },
    { "pki issue-barcode-signer", "pki.manage" },
    { "pki revoke", "pki.manage" },
    { "pki crl", "pki.manage" },
    { "pki list", NULL },
    { "pki export", "pki.manage" },
    { "chip personalize", "chip.personalize" },
    { "chip verify", NULL },
    { "chip read", NULL },
    { "chip emulate", NULL },
    /* the data directory itself, and commands on no data directory */
    { "init", NULL },
    { "db check", NULL },
    { "db migrate", NULL },
    { "serve", NULL },
    { "mrz generate", NULL },
    { "mrz parse", NULL },
    { "mrz transliterate", NULL },
    { "seal verify", NULL },
    /* the national tier signs in with its own credentials */
    { "national init", NULL },
    { "national office-add", NULL },
    { "national serve", NULL },
    { "national status", NULL },
    { "national search", NULL },
    { "national duplicates", NULL },
    { "national trace", NULL },
    { "sync push", NULL },
    { "sync person", NULL },
    { "sync uin-block", NULL },
    { "sync search", NULL },
    { "sync deaths", NULL },
    { "sync duplicates", NULL },
    { "sync status", NULL },
    /* a registrar of this office decides a cross-district duplicate case */
    { "sync resolve", "duplicate.resolve" },
    { "access", NULL },
    { "version", NULL },
    { "help", NULL },
    { NULL, NULL },
};

const struct cli_action *cli_action_find(const char *command)
{
    for (const struct cli_action *a = cli_actions; command && a->command; a++)
        if (strcmp(a->command, command) == 0)
            return a;
    return NULL;
}
