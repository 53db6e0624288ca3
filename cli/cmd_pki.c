/* civreg pki: the issuing state's ICAO PKI (issuance/pki.h). */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_pki.h"
#include "core/json.h"
#include "issuance/pki/pki.h"
#include "registry/registry.h"

static cli_run_fn pki_init_cmd, pki_rollover_cmd, pki_issue_cmd, pki_revoke_cmd, pki_crl_cmd,
    pki_list_cmd, pki_export_cmd;

static const struct cli_command pki_commands[] = {
    { "init", pki_init_cmd, "create the country signing CA (CSCA)",
      "usage: civreg pki init --country CC --user ADMIN [--password-file F] [--data DIR]\n"
      "                       [--algorithm ALG] [--org NAME] [--crl-url URL] [--pkup-years N]\n"
      "\n"
      "Creates a self-signed CSCA to the ICAO Doc 9303-12 profile: countryName CC\n"
      "(ISO 3166-1 alpha-2, e.g. UT) in issuer and subject, basicConstraints\n"
      "critical CA pathLen 0, keyUsage critical keyCertSign cRLSign, subject and\n"
      "authority key identifiers, privateKeyUsagePeriod of N years (default 5),\n"
      "validity = key usage period + 10 years + a DS key usage period. ALG is\n"
      "ecdsa-p256 (default), ecdsa-brainpoolP256r1 or rsa-3072. URL is the CRL\n"
      "distribution point written into signer certificates. The private key is\n"
      "sealed under DIR/keys/pki.key. Prints the new serial as JSON.\n" },
    { "rollover", pki_rollover_cmd, "new CSCA key with a link certificate",
      "usage: civreg pki rollover --user ADMIN [--password-file F] [--data DIR] [--algorithm ALG]\n"
      "\n"
      "Creates a new self-signed CSCA and a link certificate (the new key, issued\n"
      "and signed by the old CSCA). The old CSCA is retired: it still anchors what\n"
      "it issued; new signers are issued by the new CSCA.\n" },
    { "issue-ds", pki_issue_cmd, "issue a Document Signer certificate",
      "usage: civreg pki issue-ds --user ADMIN [--password-file F] [--data DIR]\n"
      "                           [--algorithm ALG] [--pkup-days N] [--doc-years N]\n"
      "                           [--doc-types P[,ID...]]\n"
      "\n"
      "Issues a Document Signer under the current CSCA: keyUsage critical\n"
      "digitalSignature, document type list (2.23.136.1.1.6.2, default P),\n"
      "privateKeyUsagePeriod N days (default 92), validity = that period + the\n"
      "document validity (default 10 years), CRL distribution point. RSA signers\n"
      "sign EF.SOD with RSASSA-PSS.\n" },
    { "issue-barcode-signer", pki_issue_cmd, "issue a visible digital seal signer",
      "usage: civreg pki issue-barcode-signer --user ADMIN [--password-file F] [--data DIR]\n"
      "                                       [--algorithm ALG] [--pkup-days N]\n"
      "\n"
      "Issues a barcode signer (visible digital seals, Doc 9303-13) under the\n"
      "current CSCA: keyUsage critical digitalSignature, privateKeyUsagePeriod,\n"
      "CRL distribution point.\n" },
    { "revoke", pki_revoke_cmd, "revoke a signer certificate",
      "usage: civreg pki revoke SERIAL --user ADMIN [--password-file F] [--data DIR]\n"
      "                         [--reason REASON]\n"
      "\n"
      "Marks the certificate SERIAL (hex) revoked; the next `civreg pki crl` lists\n"
      "it. REASON: keyCompromise, superseded, cessationOfOperation, unspecified\n"
      "(default), affiliationChanged, cACompromise, certificateHold.\n" },
    { "crl", pki_crl_cmd, "sign a new CRL",
      "usage: civreg pki crl --user ADMIN [--password-file F] [--data DIR] [--days N] [--der]\n"
      "\n"
      "Signs a CRL with the current CSCA (cRLNumber one more than the last,\n"
      "thisUpdate now, nextUpdate now + N days, default 30) listing every revoked\n"
      "certificate it issued, stores it and writes it to stdout (PEM, or DER).\n" },
    { "list", pki_list_cmd, "list certificates as JSON",
      "usage: civreg pki list [--data DIR]\n"
      "\n"
      "Prints every certificate (serial, kind, subject, issuer, algorithm,\n"
      "validity, private key usage period, status) as a JSON array.\n" },
    { "export", pki_export_cmd, "export certificates, the CRL or a master list",
      "usage: civreg pki export csca|ds|crl|masterlist [--data DIR] [--der]\n"
      "                         [--user ADMIN [--password-file F]]\n"
      "\n"
      "Writes to stdout, PEM by default (DER with --der):\n"
      "  csca        every CSCA and link certificate (DER: the current CSCA only)\n"
      "  ds          the current Document Signer certificate\n"
      "  crl         the newest CRL\n"
      "  masterlist  an ICAO CSCA master list: CMS SignedData, eContentType\n"
      "              2.23.136.1.1.2, signed by a master list signer (EKU\n"
      "              2.23.136.1.1.3), issued on first use (then --user is needed)\n"
      "\n"
      "Every PKI action (init, rollover, issue-*, revoke, crl, issuing a master\n"
      "list signer) is taken by an admin signed in with --user (password from\n"
      "--password-file or the first line of stdin) and recorded as a signed\n"
      "event of the provenance log (pki.csca.create, pki.ds.issue, ...).\n" },
    { NULL, NULL, NULL, NULL },
};

struct pki_args {
    struct cli_common_opts common;
    const char *data, *country, *algorithm, *org, *crl_url, *doc_types, *reason;
    const char *user, *password_file;
    long pkup_years, pkup_days, doc_years, days;
    bool der;
    const char *positional;
};

#define PKI_STR(name, field, subs, arg) CLI_OPT_STR(name, struct pki_args, field, subs, arg)
#define PKI_INT(name, field, lo, hi, subs) CLI_OPT_INT(name, struct pki_args, field, lo, hi, subs)
static const struct cli_opt pki_options[] = {
    PKI_STR("country", country, "init", "CC"),
    PKI_STR("algorithm", algorithm, "init rollover issue-ds issue-barcode-signer", "ALG"),
    PKI_STR("org", org, "init", "NAME"),
    PKI_STR("crl-url", crl_url, "init", "URL"),
    PKI_INT("pkup-years", pkup_years, 1, 5, "init"),
    PKI_INT("pkup-days", pkup_days, 1, 1095, "issue-ds issue-barcode-signer"),
    PKI_INT("doc-years", doc_years, 1, 10, "issue-ds issue-barcode-signer"),
    PKI_STR("doc-types", doc_types, "issue-ds", "TYPES"),
    PKI_STR("reason", reason, "revoke", "REASON"),
    PKI_INT("days", days, 1, 365, "crl"),
    CLI_OPT_FLAG("der", struct pki_args, der, "crl export"),
    CLI_OPT_END,
};

static const struct cli_family pki_family = {
    "pki", pki_commands, pki_options, "*",
    "init rollover issue-ds issue-barcode-signer revoke crl export"
};

int cmd_pki(int argc, char **argv)
{
    return cli_family_dispatch(&pki_family, argc, argv);
}

static int parse(const char *name, bool want_positional, int argc, char **argv,
                 struct pki_args *a)
{
    int rc;

    memset(a, 0, sizeof *a);
    a->days = 30;
    rc = cli_parse(&pki_family, name, a, argc, argv, want_positional, want_positional,
                   "the argument");
    if (rc != CLI_GO)
        return rc;
    a->positional = a->common.nargs ? a->common.args[0] : NULL;
    a->data = cli_data_dir(a->common.data);
    a->user = a->common.user;
    a->password_file = a->common.password_file;
    return CLI_GO;
}

#define PARSE(name, pos)                                                                   \
    struct pki_args a;                                                                     \
    struct err err = ERR_INIT;                                                             \
    struct pki *p = NULL;                                                                  \
    struct cli_session sess = { 0 };                                                       \
    int prc_ = parse(name, pos, argc, argv, &a);                                           \
    if (prc_ != CLI_GO)                                                                    \
        return prc_;


/* Open the PKI and sign in: PKI actions are an admin's, each a signed event
 * of the provenance log. NEED_USER false: read-only commands (an action they
 * would have to take, like issuing a master list signer, then asks for
 * --user). Returns an exit code; on failure P is closed. */
static int open_as(const char *command, const struct pki_args *a, bool create_key,
                   bool need_user, struct pki **p, struct cli_session *s)
{
    struct err err = ERR_INIT;
    int rc;

    /* Signed in first: a role the policy leaves out is refused before the
     * PKI's keys are opened. */
    rc = cli_session_open(command, a->data, a->user, a->password_file, need_user, s);
    if (rc != EXIT_OK)
        return rc;
    if (pki_open(a->data, create_key, p, &err) != 0) {
        cli_session_close(s);
        return cli_fail(command, &err);
    }
    cli_pki_attach(*p, s);
    return EXIT_OK;
}

static void close_as(struct pki *p, struct cli_session *s)
{
    pki_close(p);
    cli_session_close(s);
}

static int print_serials(const char *k1, const char *s1, const char *k2, const char *s2)
{
    json_t *o = json_pack("{s:s}", k1, s1);
    struct err err = ERR_INIT;
    struct buf b = BUF_INIT(4096);
    int rc = EXIT_OK;

    bool bad = false; /* the second serial could not be added */

    if (o && k2)
        bad |= json_object_set_new(o, k2, json_string(s2)) != 0;
    if (o == NULL || bad || json_dump_compact(o, &b, &err) != 0)
        rc = EXIT_FAIL;
    else
        printf("%s\n", buf_str(&b));
    json_decref(o);
    buf_release(&b);
    return rc;
}

static int pki_init_cmd(int argc, char **argv)
{
    PARSE("init", false);
    struct pki_init_opts o = { 0 };
    char serial[PKI_SERIAL_MAX];
    int rc;

    if (a.country == NULL)
        return cli_usage_error("pki init", "--country CC is required");
    if (pki_alg_parse(a.algorithm, &o.alg, &err) != 0)
        return cli_usage_error("pki init", "%s", err_msg(&err));
    o.country = a.country;
    o.org = a.org;
    o.crl_url = a.crl_url;
    o.pkup_years = (int)a.pkup_years;
    o.now = time(NULL);
    if ((rc = open_as("pki init", &a, true, true, &p, &sess)) != EXIT_OK)
        return rc;
    if (pki_init(p, &o, serial, &err) != 0) {
        close_as(p, &sess);
        return cli_fail("pki init", &err);
    }
    close_as(p, &sess);
    rc = print_serials("csca_serial", serial, NULL, NULL);
    return rc;
}

static int pki_rollover_cmd(int argc, char **argv)
{
    PARSE("rollover", false);
    enum pki_alg alg;
    char serial[PKI_SERIAL_MAX], link[PKI_SERIAL_MAX];

    if (pki_alg_parse(a.algorithm, &alg, &err) != 0)
        return cli_usage_error("pki rollover", "%s", err_msg(&err));
    int rc;
    if ((rc = open_as("pki rollover", &a, false, true, &p, &sess)) != EXIT_OK)
        return rc;
    if (pki_rollover(p, alg, time(NULL), serial, link, &err) != 0) {
        close_as(p, &sess);
        return cli_fail("pki rollover", &err);
    }
    close_as(p, &sess);
    return print_serials("csca_serial", serial, "link_serial", link);
}

static int issue(const char *name, enum pki_kind kind, const struct pki_args *a)
{
    struct pki_issue_opts o = { 0 };
    struct pki *p = NULL;
    struct cli_session sess;
    struct err err = ERR_INIT;
    char serial[PKI_SERIAL_MAX], full[64];
    int rc;

    /* cannot truncate: NAME is one of the short pki subcommand names */
    (void)snprintf(full, sizeof full, "pki %s", name);
    if (pki_alg_parse(a->algorithm, &o.alg, &err) != 0)
        return cli_usage_error(full, "%s", err_msg(&err));
    o.kind = kind;
    o.pkup_days = (int)a->pkup_days;
    o.doc_years = (int)a->doc_years;
    o.doc_types = a->doc_types;
    o.now = time(NULL);
    if ((rc = open_as(full, a, false, true, &p, &sess)) != EXIT_OK)
        return rc;
    if (pki_issue(p, &o, serial, &err) != 0) {
        close_as(p, &sess);
        return cli_fail(full, &err);
    }
    close_as(p, &sess);
    return print_serials("serial", serial, "kind", pki_kind_name(kind));
}

/* issue-ds and issue-barcode-signer differ only by the kind of signer. */
static int pki_issue_cmd(int argc, char **argv)
{
    static const char *const names[] = { "issue-ds", "issue-barcode-signer" };
    static const enum pki_kind kinds[] = { PKI_KIND_DS, PKI_KIND_BARCODE };
    int what = CLI_SUB_INDEX(names, argv[0]);
    struct pki_args a;
    int rc;

    if (what < 0)
        return cli_usage_error("pki", "unknown command '%s'", argv[0]);
    if ((rc = parse(names[what], false, argc, argv, &a)) != CLI_GO)
        return rc;
    return issue(names[what], kinds[what], &a);
}

static int pki_revoke_cmd(int argc, char **argv)
{
    PARSE("revoke", true);
    int rc;
    if ((rc = open_as("pki revoke", &a, false, true, &p, &sess)) != EXIT_OK)
        return rc;
    if (pki_revoke(p, a.positional, a.reason, time(NULL), &err) != 0) {
        close_as(p, &sess);
        return cli_fail("pki revoke", &err);
    }
    close_as(p, &sess);
    return print_serials("revoked", a.positional, NULL, NULL);
}

static int write_out(const struct buf *b)
{
    if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
        return EXIT_FAIL;
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

static int pki_crl_cmd(int argc, char **argv)
{
    PARSE("crl", false);
    struct buf der = BUF_INIT(16 << 20), out = BUF_INIT(32 << 20);
    int rc;

    if ((rc = open_as("pki crl", &a, false, true, &p, &sess)) != EXIT_OK)
        return rc;
    if (pki_crl_issue(p, (int)a.days, time(NULL), &der, &err) != 0 ||
        (!a.der && pki_export(p, PKI_EXPORT_CRL, false, time(NULL), &out, &err) != 0)) {
        close_as(p, &sess);
        buf_release(&der);
        buf_release(&out);
        return cli_fail("pki crl", &err);
    }
    close_as(p, &sess);
    rc = write_out(a.der ? &der : &out);
    buf_release(&der);
    buf_release(&out);
    return rc;
}

static int pki_list_cmd(int argc, char **argv)
{
    PARSE("list", false);
    json_t *list = NULL;
    char *s;

    (void)sess;
    if (pki_open(a.data, false, &p, &err) != 0 || pki_list(p, &list, &err) != 0) {
        pki_close(p);
        return cli_fail("pki list", &err);
    }
    pki_close(p);
    s = json_dumps(list, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(list);
    if (s == NULL)
        return EXIT_FAIL;
    printf("%s\n", s);
    free(s);
    return EXIT_OK;
}

static int pki_export_cmd(int argc, char **argv)
{
    PARSE("export", true);
    enum pki_export_what what;
    struct buf out = BUF_INIT(32 << 20);
    int rc;

    if (strcmp(a.positional, "csca") == 0)
        what = PKI_EXPORT_CSCA;
    else if (strcmp(a.positional, "ds") == 0)
        what = PKI_EXPORT_DS;
    else if (strcmp(a.positional, "crl") == 0)
        what = PKI_EXPORT_CRL;
    else if (strcmp(a.positional, "masterlist") == 0)
        what = PKI_EXPORT_MASTERLIST;
    else
        return cli_usage_error("pki export", "'%s' is not csca, ds, crl or masterlist",
                               a.positional);
    if ((rc = open_as("pki export", &a, false, false, &p, &sess)) != EXIT_OK)
        return rc;
    if (pki_export(p, what, a.der, time(NULL), &out, &err) != 0) {
        close_as(p, &sess);
        buf_release(&out);
        return cli_fail("pki export", &err);
    }
    close_as(p, &sess);
    rc = write_out(&out);
    buf_release(&out);
    return rc;
}
