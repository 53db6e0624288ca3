/* civreg: the command. main() only parses global options and dispatches to
 * one subcommand; each subcommand calls one module function. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civreg_version.h"
#include "cli.h"
#include "core/log.h"
#include "core/secret.h"
#include "registry/registry.h"

const struct cli_command cli_commands[] = {
    { "init", cmd_init, "create a data directory",
      "usage: civreg init [--data DIR] [--country CODE] [--office CODE --office-name NAME]\n"
      "\n"
      "Creates DIR (default ./civreg-data) holding civreg.db, blobs/, keys/ (mode\n"
      "0700) and civreg.conf. CODE for --country is the ICAO Doc 9303 code of the\n"
      "issuing state (default UTO); --office is this office's code, 2 to 8 of\n"
      "A-Z 0-9 (default HQ). Refuses, changing nothing, when DIR already holds a\n"
      "data directory or is a non-empty folder.\n" },
    { "db", cmd_db, "database maintenance (check, migrate)",
      "usage: civreg db check|migrate [--data DIR]\n"
      "\n"
      "  check     integrity_check, foreign_key_check, migration state; exit 1 on\n"
      "            any problem, naming each\n"
      "  migrate   apply pending schema migrations\n" },
    { "serve", cmd_serve, "run the web server",
      "usage: civreg serve [--data DIR] [--listen ADDR:PORT] [--threads N]\n"
      "                    [--tls-cert FILE --tls-key FILE] [--demo]\n"
      "\n"
      "Serves the web UI and JSON API of the data directory DIR (default\n"
      "./civreg-data) on ADDR:PORT (default: civreg.conf's listen, else\n"
      "127.0.0.1:8080; port 0 picks a free one). GET /healthz answers\n"
      "{\"status\":\"ok\",\"version\":...,\"schema_version\":...}. Stops cleanly on\n"
      "SIGINT or SIGTERM.\n"
      "\n"
      "--tls-cert FILE --tls-key FILE  serve HTTPS with this PEM certificate\n"
      "    (chain) and private key; session cookies are then marked Secure.\n"
      "--demo  when DIR does not exist, create a demo office there: users\n"
      "    admin, clerk, clerk2, registrar, enrol, approver, operator, auditor,\n"
      "    all with the password \"demo\" (printed at start-up; demo mode only),\n"
      "    and 300 synthetic signed birth records in every state.\n"
      "civreg.conf: session_idle_minutes (default 30), session_max_hours\n"
      "    (default 12) end signed-in sessions and wipe their unlocked keys.\n" },
    { "scan", cmd_scan, "scanned pages: barcodes, quality, separators, import",
      "usage: civreg scan decode|check|separator|import|volumes|pages|page [OPTIONS]\n"
      "\n"
      "  decode      print the barcodes of image files (TYPE:payload, like zbarimg)\n"
      "  check       report page quality (resolution, blank, dark, faded, blur, skew)\n"
      "  separator   write a volume separator sheet (PDF with a Code 128 barcode)\n"
      "  import      store scanned pages as evidence, volume by volume (clerk)\n"
      "  volumes     list imported register volumes\n"
      "  pages       list the pages of a volume\n"
      "  page        one page as JSON, with its register reference for keying\n"
      "\n"
      "See `civreg help scan COMMAND`.\n" },
    { "user", cmd_user, "users, roles and signing keys (add, passwd, disable, list)",
      "usage: civreg user add|passwd|disable|list [OPTIONS]\n"
      "\n"
      "  add       create a user with roles and a sealed Ed25519 signing key\n"
      "  passwd    change a user's password (re-seals the signing key)\n"
      "  disable   disable a user (admin)\n"
      "  list      list users (admin or auditor)\n" },
    { "record", cmd_record, "birth records (draft, verify, register, correct, show, ...)",
      "usage: civreg record draft|verify|register|correct|show|history|list|import [OPTIONS]\n"
      "\n"
      "  draft     key a new birth record from JSON on stdin (clerk)\n"
      "  verify    re-key a draft blind; field-by-field comparison (second clerk)\n"
      "  register  register a verified record: number, person, UIN (registrar)\n"
      "  correct   a new version with a reason and evidence\n"
      "  show      a record, current or any version\n"
      "  history   all versions and events of a record\n"
      "  list      records by status\n"
      "  import    draft many records from a JSON Lines file\n" },
    { "search", cmd_search, "find people: names in any script, dates, parents, place, numbers",
      "usage: civreg search [--data DIR] --user U [--password-file F] [--limit N] [--table]\n"
      "                     QUERY...\n"
      "       civreg search --reindex [--data DIR] --user U   (admin or registrar)\n"
      "\n"
      "Ranked search over every record (drafts too), best first, as JSON (or a\n"
      "table). Names match in any script, with or without accents, misspelt, in\n"
      "any order (Müller = Mueller = MULLER = Мюллер). Words are names unless\n"
      "prefixed: given: family: mother: father: parent: place: sex:f|m|x\n"
      "status:draft|verified|registered uin: reg: born:. Dates: 1985,\n"
      "1985-03, 1985-03-14, 14.03.1985, ranges 1980..1985. A bare 10-digit\n"
      "number is a UIN, OFFICE/YEAR/N a registration number. Quote values with\n"
      "spaces: mother:\"Anna Maria\". Needs a signed-in user (records hold personal\n"
      "data). --reindex rebuilds the index. See docs/search.md.\n" },
    { "duplicates", cmd_duplicates, "possible duplicate births (list, resolve)",
      "usage: civreg duplicates list|resolve [OPTIONS]\n"
      "\n"
      "  list      candidate pairs of a record, or every open pair\n"
      "  resolve   the same birth (--same) or distinct (--distinct), with a reason\n"
      "            (registrar; a signed event). Registration waits for every open pair.\n" },
    { "person", cmd_person, "persons by identification number (show)",
      "usage: civreg person show UIN [OPTIONS]\n" },
    { "death", cmd_death, "deaths (register, show)",
      "usage: civreg death register|show [OPTIONS]\n"
      "\n"
      "  register  register the death of a person (registrar)\n"
      "  show      a registered death by UIN or death registration number\n" },
    { "extract", cmd_extract, "certified birth extracts with a visible digital seal",
      "usage: civreg extract issue REF --out FILE.pdf [OPTIONS]\n" },
    { "seal", cmd_seal, "verify a visible digital seal (scan, photo or payload)",
      "usage: civreg seal verify FILE|--payload TEXT|--stdin [--csca F] [OPTIONS]\n" },
    { "evidence", cmd_evidence, "the evidence store (add)",
      "usage: civreg evidence add FILE [OPTIONS]\n" },
    { "audit", cmd_audit, "verify the signed log; trace, prove, export",
      "usage: civreg audit verify|trace|proof|export|verify-bundle|head [OPTIONS]\n"
      "\n"
      "  verify         re-verify every hash, signature and tree head\n"
      "  trace          provenance of a UIN, registration number or record\n"
      "  proof          inclusion and consistency proofs\n"
      "  export         a self-contained bundle for offline verification\n"
      "  verify-bundle  verify a bundle with only the office public key\n"
      "  head           the latest signed tree head and the office key\n" },
    { "mrz", cmd_mrz, "machine-readable zones (generate, parse, transliterate)",
      "usage: civreg mrz generate|parse|transliterate\n"
      "\n"
      "  generate       JSON record on stdin -> MRZ lines (TD1, TD2, TD3, MRV-A, MRV-B)\n"
      "  parse          MRZ lines on stdin -> JSON with fields, checks and located\n"
      "                 errors; exit 0 valid, 1 invalid, 2 not an MRZ\n"
      "  transliterate  UTF-8 name on stdin -> its MRZ form (ICAO Doc 9303 Part 3)\n" },
    { "application", cmd_application, "passport office applications (enrol ... collect)",
      "usage: civreg application enrol|approve|reject|personalize|qc|issue|collect|show|list|\n"
      "                          datapage [OPTIONS]\n"
      "\n"
      "  enrol        open an application with photo and evidence checks\n"
      "  approve      four-eyes approval: document number and booklet\n"
      "  reject       reject with a reason\n"
      "  personalize  data page PDF and chip package from the same data\n"
      "  qc           quality control (--pass, or --fail --reason)\n"
      "  issue        the document becomes valid\n"
      "  collect      the holder collected it\n"
      "  show, list   applications\n"
      "  datapage     write the personalized data page PDF\n" },
    { "document", cmd_document, "travel documents: data page, status, alerts, trace, numbers",
      "usage: civreg document datapage|status|show|expire|alerts|trace|series [OPTIONS]\n"
      "\n"
      "  datapage   JSON record on stdin -> data page PDF (TD3 125 x 88 mm, TD1 card)\n"
      "  status     lost, stolen, revoked, cancelled, expired with reason and evidence\n"
      "  show       a document by number\n"
      "  expire     mark documents past their expiry date\n"
      "  alerts     lost/stolen/revoked numbers, SLTD-style CSV or JSON\n"
      "  trace      provenance from a document number to the birth record and scans\n"
      "  series     document number patterns\n" },
    { "booklet", cmd_booklet, "blank booklet stock (receive, spoil, report, show)",
      "usage: civreg booklet receive|spoil|report|show [OPTIONS]\n" },
    { "pki", cmd_pki, "ICAO PKI: CSCA, document signers, CRLs, master list",
      "usage: civreg pki init|rollover|issue-ds|issue-barcode-signer|revoke|crl|list|export\n"
      "                  [OPTIONS]\n"
      "\n"
      "The issuing state's ICAO Doc 9303-12 PKI in the data directory: see\n"
      "`civreg pki help COMMAND` and docs/pki.md.\n" },
    { "chip", cmd_chip, "chip contents: personalize (LDS + EF.SOD), verify",
      "usage: civreg chip personalize|verify [OPTIONS]\n"
      "\n"
      "Builds ICAO Doc 9303-10 chip contents signed by the Document Signer, and\n"
      "checks chip contents by passive authentication: see `civreg chip help\n"
      "COMMAND` and docs/chip.md.\n" },
    { "national", cmd_national, "the national tier on PostgreSQL (init, serve, status, trace)",
      "usage: civreg national init|office-add|serve|status|search|duplicates|trace [OPTIONS]\n"
      "\n"
      "See `civreg national help COMMAND` and docs/national.md.\n" },
    { "sync", cmd_sync, "a district and the national tier (push, person, uin-block)",
      "usage: civreg sync push|person|uin-block|search --national URL [OPTIONS]\n" },
    { "access", cmd_access, "the access policy: which roles may take each action",
      "usage: civreg access [--commands]\n"
      "\n"
      "Prints the access policy (registry/access.c) as a Markdown table: each\n"
      "action the registry, the passport office, this command and the web\n"
      "server check, and the roles that may take it. docs/access.md holds it.\n"
      "--commands prints each command and the action it checks (cli/actions.c).\n" },
    { "version", cmd_version, "print the version", "usage: civreg version | civreg --version\n" },
    { "help", cmd_help, "show help for a command", "usage: civreg help [COMMAND]\n" },
    { NULL, NULL, NULL, NULL },
};

static void print_overview(FILE *f)
{
    fprintf(f, "usage: civreg [--log-level debug|info|warn|error|off] COMMAND [OPTIONS]\n"
               "       civreg --version | --help | help COMMAND\n\ncommands:\n");
    for (size_t i = 0; cli_commands[i].name; i++)
        fprintf(f, "  %-10s %s\n", cli_commands[i].name, cli_commands[i].summary);
    fprintf(f, "\nWithout --data, commands use %s.\n", "./civreg-data");
}

int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("civreg %s\n", CIVREG_VERSION);
    return EXIT_OK;
}

int cmd_access(int argc, char **argv)
{
    char *table;

    if (argc == 2 && strcmp(argv[1], "--commands") == 0) {
        /* The command line's table (cli/actions.c): COMMAND TAB ACTION|- */
        for (const struct cli_action *a = cli_actions; a->command; a++)
            printf("%s\t%s\n", a->command, a->action ? a->action : "-");
        return EXIT_OK;
    }
    if (argc > 1)
        return strcmp(argv[1], "--help") == 0 ? cli_help(cli_find(cli_commands, "access"))
                                               : cli_usage_error("access", "no arguments taken");
    table = registry_access_markdown();
    if (table == NULL) {
        fprintf(stderr, "civreg access: out of memory\n");
        return EXIT_FAIL;
    }
    fputs(table, stdout);
    free(table);
    return EXIT_OK;
}

int cmd_help(int argc, char **argv)
{
    const struct cli_command *c;

    if (argc < 2) {
        print_overview(stdout);
        return EXIT_OK;
    }
    c = cli_find(cli_commands, argv[1]);
    if (c == NULL)
        return cli_usage_error("help", "unknown command '%s'", argv[1]);
    if (argc >= 3 && c->run != cmd_help) {
        /* `civreg help db check` -> `civreg db help check` */
        char *sub[] = { argv[1], (char *)"help", argv[2], NULL };
        return c->run(3, sub);
    }
    return cli_help(c);
}

/* --log-level may appear anywhere; it is taken out before dispatch. */
static int take_log_level(int *argc, char **argv)
{
    int out = 0;

    for (int i = 0; i < *argc; i++) {
        const char *a = argv[i], *val = NULL;
        enum log_level level;
        if (strcmp(a, "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (strcmp(a, "--log-level") == 0) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "civreg: --log-level needs a value (debug, info, warn, error, off)\n");
                return -1;
            }
            val = argv[++i];
        } else if (strncmp(a, "--log-level=", 12) == 0) {
            val = a + 12;
        } else {
            argv[out++] = argv[i];
            continue;
        }
        if (log_parse_level(val, &level) != 0) {
            fprintf(stderr, "civreg: unknown log level '%s' (debug, info, warn, error, off)\n", val);
            return -1;
        }
        log_set_level(level);
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

int main(int argc, char **argv)
{
    const struct cli_command *c;
    struct err err = ERR_INIT;

    setlocale(LC_CTYPE, "C.UTF-8");
    if (take_log_level(&argc, argv) != 0)
        return EXIT_USAGE;
    if (argc < 2) {
        print_overview(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
        return cmd_version(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_overview(stdout);
        return EXIT_OK;
    }
    c = cli_find(cli_commands, argv[1]);
    if (c == NULL) {
        fprintf(stderr, "civreg: unknown command '%s' (see `civreg help`)\n", argv[1]);
        return EXIT_USAGE;
    }
    if (secret_init(&err) != 0) {
        fprintf(stderr, "civreg: %s\n", err_msg(&err));
        return EXIT_FAIL;
    }
    cli_audit_init();
    return c->run(argc - 1, argv + 1);
}
