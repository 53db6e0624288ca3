/* civreg application | document | booklet: the passport office's commands
 * over issuance/ (enrolment to collection, data pages, document numbers and
 * status, booklet stock). Each subcommand parses its options and calls one
 * issuance function as the signed-in user. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_registry.h"
#include "core/conf.h"
#include "core/json.h"
#include "db/datadir.h"
#include "issuance/print/print.h"
#include "issuance/passport/passport.h"
#include "issuance/icao/icao.h"
#include "registry/registry.h"

#define STDIN_MAX (1 << 20)

/* ---- helpers ----------------------------------------------------------- */

static int read_file(const char *path, size_t max, struct buf *out, struct err *err)
{
    FILE *f = fopen(path, "rb");
    int rc;

    *out = (struct buf)BUF_INIT(max);
    if (f == NULL)
        return err_set(err, "%s: %s", path, strerror(errno));
    rc = cli_read_stream(f, path, out, err);
    fclose(f);
    return rc;
}

/* Write LEN bytes to PATH ("-" = stdout). */
static int write_file(const char *path, const void *p, size_t len, struct err *err)
{
    FILE *f;

    if (strcmp(path, "-") == 0) {
        if (fwrite(p, 1, len, stdout) != len || fflush(stdout) != 0)
            return err_set(err, "stdout: write error");
        return 0;
    }
    f = fopen(path, "wb");
    if (f == NULL)
        return err_set(err, "%s: %s", path, strerror(errno));
    if (fwrite(p, 1, len, f) != len) {
        fclose(f);
        return err_set(err, "%s: write error", path);
    }
    if (fclose(f) != 0)
        return err_set(err, "%s: %s", path, strerror(errno));
    return 0;
}

/* ---- options: one table for the office's three families ---------------- */

struct opts {
    struct cli_common_opts common;
    const char *uin, *type, *kind, *replaces, *photo, *signature, *contact, *surname, *given;
    const char *reason, *evidence, *status, *format, *out, *first, *last, *reference, *pattern;
    const char *national;
    bool pass, fail;
    long limit;
};

/* Each option once, with the subcommands of document, application and
 * booklet that take it (document.datapage: that family's alone). */
static const struct cli_opt office_options[] = {
    CLI_OPT_STR("uin", struct opts, uin, "enrol", "UIN"),
    CLI_OPT_STR("photo", struct opts, photo, "enrol document.datapage", "FILE.jpg"),
    CLI_OPT_STR("signature", struct opts, signature, "enrol document.datapage", "FILE"),
    CLI_OPT_STR("type", struct opts, type, "enrol series receive", "TD3|TD1"),
    CLI_OPT_STR("kind", struct opts, kind, "enrol", "new|renewal|replacement"),
    CLI_OPT_STR("replaces", struct opts, replaces, "enrol", "NUMBER"),
    CLI_OPT_STR("surname", struct opts, surname, "enrol", "S"),
    CLI_OPT_STR("given-names", struct opts, given, "enrol", "G"),
    CLI_OPT_STR("contact", struct opts, contact, "enrol", "JSON"),
    CLI_OPT_STR("national", struct opts, national, "enrol", "URL"),
    CLI_OPT_STR("status", struct opts, status, "status list", "S"),
    CLI_OPT_STR("reason", struct opts, reason, "status reject qc spoil", "TEXT"),
    CLI_OPT_STR("evidence", struct opts, evidence, "status", "H1,H2"),
    CLI_OPT_FLAG("pass", struct opts, pass, "qc"),
    CLI_OPT_FLAG("fail", struct opts, fail, "qc"),
    CLI_OPT_STR("out", struct opts, out, "datapage alerts personalize chip", "FILE"),
    CLI_OPT_STR("format", struct opts, format, "alerts", "csv|json"),
    CLI_OPT_STR("pattern", struct opts, pattern, "series", "P"),
    CLI_OPT_INT("limit", struct opts, limit, 1, 10000, "list"),
    CLI_OPT_STR("first", struct opts, first, "receive", "SERIAL"),
    CLI_OPT_STR("last", struct opts, last, "receive", "SERIAL"),
    CLI_OPT_STR("reference", struct opts, reference, "receive", "TEXT"),
    CLI_OPT_END,
};

/* Parse the options of F's subcommand SUB into O, and exactly NPOS
 * positional arguments (named WHAT in the usage error) into POS. Returns
 * CLI_GO to go on, else the exit code. */
static int office_parse(const struct cli_family *f, const char *sub, int npos, const char *what,
                        int argc, char **argv, struct opts *o, const char **pos)
{
    int rc;

    memset(o, 0, sizeof *o);
    rc = cli_parse(f, sub, o, argc, argv, npos, npos, what);
    for (int i = 0; rc == CLI_GO && i < npos; i++)
        pos[i] = o->common.args[i];
    return rc;
}

/* ---- civreg document --------------------------------------------------- */

static cli_run_fn document_datapage_cmd, doc_office;

static const struct cli_command document_commands[] = {
    { "datapage", document_datapage_cmd, "render a data page PDF from a JSON record on stdin",
      "usage: civreg document datapage --photo FILE.jpg [--signature FILE] --out FILE.pdf\n"
      "                                < record.json\n"
      "\n"
      "Renders a TD3 passport data page (125 x 88 mm) or a TD1 card (85.6 x 54 mm,\n"
      "front and back) with libharu from one JSON record: the members of `civreg\n"
      "mrz generate` plus document_name, issuing_state_name, nationality_name,\n"
      "place_of_birth, date_of_issue, authority, personal_number and\n"
      "specimen_text. The MRZ is generated from the same record, printed in\n"
      "OCR-B at Doc 9303's pitch and position, and also written to stdout. The\n"
      "photo must be a JPEG; the signature a JPEG or PNG. --out - writes the PDF\n"
      "to stdout instead (the MRZ then goes to stderr).\n" },
    { "status", doc_office, "mark a document lost, stolen, revoked, cancelled, expired",
      "usage: civreg document status NUMBER --status S --reason TEXT [--evidence H1,H2]\n"
      "       [--data DIR] --user U [--password-file F]\n"
      "\n"
      "Lost and stolen: a valid document, reported at the counter (enrolment officer\n"
      "or approver). Revoked: a valid, lost or stolen one; cancelled: one not yet\n"
      "issued or valid; expired: a valid one past its expiry (approver or admin).\n"
      "Evidence: hashes of files stored with `civreg evidence add`.\n" },
    { "show", doc_office, "show a document by number",
      "usage: civreg document show NUMBER [--data DIR] --user U [--password-file F]\n" },
    { "expire", doc_office, "mark valid documents past their expiry date as expired",
      "usage: civreg document expire [--data DIR] --user U [--password-file F]\n" },
    { "alerts", doc_office, "export lost, stolen and revoked numbers (SLTD fields)",
      "usage: civreg document alerts [--format csv|json] [--out FILE] [--data DIR] --user U\n"
      "       [--password-file F]\n"
      "\n"
      "One row per lost, stolen or revoked document: document_number, document_type,\n"
      "issuing_country, status, reported_at, date_of_issue, date_of_expiry,\n"
      "blank_or_personalized, reason (the fields of INTERPOL's SLTD database).\n"
      "CSV (RFC 4180, header row) by default.\n" },
    { "trace", doc_office, "provenance of a document number back to the birth record",
      "usage: civreg document trace NUMBER [--data DIR] --user U [--password-file F]\n"
      "\n"
      "The document, its application, their signed events, and the registry's trace\n"
      "of the person: record versions, link statements, scans, inclusion proofs.\n"
      "Auditor, registrar or admin.\n" },
    { "series", doc_office, "show or set the document number patterns",
      "usage: civreg document series [--type TD3|TD1 --pattern P] [--data DIR] --user U\n"
      "       [--password-file F]\n"
      "\n"
      "A pattern is literal A-Z 0-9 with {seq:N} once (N digits, 3-9), and\n"
      "optionally {office} and {yy}; numbers must fit the MRZ (TD3: 9 characters).\n"
      "Default: {office}{seq:N} filling 9 characters. The sequence never restarts.\n" },
    { NULL, NULL, NULL, NULL },
};

/* `document datapage` renders from stdin and opens no data directory. */
#define DOCUMENT_SESSION "status show expire alerts trace series"
static const struct cli_family document_family = { "document", document_commands,
                                                    office_options, DOCUMENT_SESSION,
                                                    DOCUMENT_SESSION };

int cmd_document(int argc, char **argv)
{
    return cli_family_dispatch(&document_family, argc, argv);
}

static int document_datapage_cmd(int argc, char **argv)
{
    struct buf in = BUF_INIT(STDIN_MAX), photo = BUF_INIT(0), sig = BUF_INIT(0);
    struct buf pdf = BUF_INIT(64 << 20), mrz = BUF_INIT(256);
    struct err err = ERR_INIT;
    struct opts o;
    json_t *rec = NULL;
    int rc = office_parse(&document_family, "datapage", 0, NULL, argc, argv, &o, NULL);

    if (rc != CLI_GO)
        return rc;
    rc = EXIT_FAIL;
    if (o.photo == NULL || o.out == NULL)
        return cli_usage_error("document datapage", "--photo and --out are required");

    if (cli_read_stream(stdin, "stdin", &in, &err) != 0 ||
        json_parse(buf_str(&in), in.len, &rec, &err) != 0) {
        err_prefix(&err, "input");
        goto fail;
    }
    if (read_file(o.photo, PHOTO_MAX_BYTES, &photo, &err) != 0)
        goto fail;
    if (o.signature && read_file(o.signature, SIGNATURE_MAX_BYTES, &sig, &err) != 0)
        goto fail;
    if (datapage_render_json(rec, photo.data, photo.len, sig.data, sig.len, &pdf, &mrz,
                             &err) != 0)
        goto fail;
    if (write_file(o.out, pdf.data, pdf.len, &err) != 0)
        goto fail;
    fprintf(strcmp(o.out, "-") == 0 ? stderr : stdout, "%s\n", buf_str(&mrz));
    rc = EXIT_OK;
    goto out;
fail:
    cli_fail("document datapage", &err);
out:
    json_decref(rec);
    buf_release(&in);
    buf_release(&photo);
    buf_release(&sig);
    buf_release(&pdf);
    buf_release(&mrz);
    return rc;
}

#if __has_include("issuance/pki/pki.h")
#include "issuance/pki/pki.h"
#define CLI_HAVE_PKI 1
#else
#define CLI_HAVE_PKI 0
#endif

#if CLI_HAVE_PKI
/* The PKI's events (chip.personalize) go to the registry's log, signed by
 * the signed-in user, inside the PKI's transaction. */
static int pki_event(void *ctx, struct db *db, const char *type, const json_t *objects,
                     const json_t *data, struct err *err)
{
    return registry_event_append(db, ctx, type, objects, data, NULL, err);
}
#endif

struct office_session {
    struct cli_session s;
    struct office_env env;
};

static int office_open(const char *cmd, const struct opts *o, bool with_pki,
                       struct office_session *os)
{
    int rc;

    memset(os, 0, sizeof *os);
    if ((rc = cli_sign_in(cmd, &o->common, &os->s)) != 0)
        return rc;
    os->env.db = os->s.db;
    os->env.blobs_dir = os->s.dd->blobs_dir;
    os->env.keys_dir = os->s.dd->keys_dir;
    os->env.reg = os->s.actor;
    office_env_init(&os->env);
#if CLI_HAVE_PKI
    if (with_pki) {
        /* Chips are signed when the data directory's PKI has a document
         * signer; each chip signed is a signed event of this user. */
        struct err err = ERR_INIT;
        json_t *certs = NULL;
        bool have_ds = false;
        /* on the office's own connection: the chip's event joins the
         * personalization's transaction */
        if (pki_open_db(os->s.db, os->s.dd->dir, &os->env.pki, &err) == 0 &&
            pki_list(os->env.pki, &certs, &err) == 0) {
            size_t i;
            json_t *c;
            json_array_foreach(certs, i, c) {
                const char *kind = json_string_value(json_object_get(c, "kind"));
                const char *status = json_string_value(json_object_get(c, "status"));
                if (kind && strcmp(kind, pki_kind_name(PKI_KIND_DS)) == 0 &&
                    (status == NULL || strcmp(status, "revoked") != 0))
                    have_ds = true;
            }
        }
        json_decref(certs);
        if (!have_ds) {
            pki_close(os->env.pki);
            os->env.pki = NULL; /* no document signer: no chip package */
        } else {
            pki_require_events(os->env.pki, true);
            pki_set_event_sink(os->env.pki, pki_event, (void *)os->s.actor);
        }
    }
#else
    (void)with_pki;
#endif
    return EXIT_OK;
}

static void office_close(struct office_session *os)
{
#if CLI_HAVE_PKI
    pki_close(os->env.pki);
#endif
    cli_session_close(&os->s);
}

/* ---- one runner for the office's subcommands ---------------------------- */

/* What a subcommand settles before it signs in: a usage problem of its
 * options (NULL: none), the command it signs in as (NULL: its own; a
 * command of cli/actions.c) and whether the office opens its PKI. */
struct office_start {
    const char *problem;
    const char *as;
    bool with_pki;
};

/* A body returns this, with ERR's message, for a usage problem found once
 * the office is open. */
enum { OFFICE_USAGE = -2 };

/* The subcommands of FAMILY that one runner serves: their NAMES, how many
 * positional arguments each takes (NPOS, 0 or 1, named WHAT in the usage
 * error), what each settles before signing in (START, may be NULL) and the
 * BODY run as the signed-in user with the positional argument ARG. */
struct office_subs {
    const struct cli_family *family;
    const char *const *names;
    const int *npos;
    size_t n;
    const char *what;
    void (*start)(int sub, const struct opts *o, struct office_start *st);
    int (*body)(int sub, struct office_session *os, const struct opts *o, const char *arg,
                json_t **out, struct err *err);
};

/* Run subcommand ARGV[0] of S: its options, what it settles, sign-in, its
 * body, then its JSON on stdout or its failure ("civreg FAMILY SUB: ...").
 * Returns the exit code. */
static int office_run(const struct office_subs *s, int argc, char **argv)
{
    int sub = cli_sub_index(s->names, s->n, sizeof *s->names, argv[0]);
    struct office_start st = { NULL, NULL, false };
    struct office_session os;
    struct err err = ERR_INIT;
    json_t *out = NULL;
    const char *arg = NULL;
    struct opts o;
    char cmd[64];
    int rc;

    if (sub < 0)
        return cli_usage_error(s->family->name, "unknown command '%s'", argv[0]);
    /* cannot truncate: family and subcommand names are short constants */
    (void)snprintf(cmd, sizeof cmd, "%s %s", s->family->name, s->names[sub]);
    rc = office_parse(s->family, s->names[sub], s->npos[sub], s->what, argc, argv, &o, &arg);
    if (rc != CLI_GO)
        return rc;
    if (s->start)
        s->start(sub, &o, &st);
    if (st.problem)
        return cli_usage_error(cmd, "%s", st.problem);
    if ((rc = office_open(st.as ? st.as : cmd, &o, st.with_pki, &os)) != 0)
        return rc;
    rc = s->body(sub, &os, &o, arg, &out, &err);
    if (rc == OFFICE_USAGE) {
        json_decref(out);
        office_close(&os);
        return cli_usage_error(cmd, "%s", err_msg(&err));
    }
    rc = cli_result(cmd, rc, out, &err);
    office_close(&os);
    return rc;
}

/* Write application ID's data page PDF to PATH ("-": stdout). */
static int app_write_datapage(struct office_session *os, const char *id, const char *path,
                              struct err *err)
{
    unsigned char *pdf = NULL;
    size_t len = 0;
    int rc = office_app_datapage(&os->env, id, &pdf, &len, err);

    if (rc == 0)
        rc = write_file(path, pdf, len, err);
    free(pdf);
    return rc;
}

/* ---- civreg application ------------------------------------------------ */

static cli_run_fn app_enrol, app_simple;

#define SIGNIN "[--data DIR] --user U [--password-file F]"

static const struct cli_command app_commands[] = {
    { "enrol", app_enrol, "open an application for a person (enrolment officer)",
      "usage: civreg application enrol --uin UIN --photo FILE.jpg [--signature FILE]\n"
      "       [--type TD3|TD1] [--kind new|renewal|replacement --replaces NUMBER]\n"
      "       [--surname S --given-names G] [--contact JSON] [--national URL]\n"
      "       [--timeout S]\n"
      "       " SIGNIN "\n"
      "\n"
      "Checks and stores the evidence: the person's birth record is registered, the\n"
      "person is not deceased, they hold no other valid (or pending) document of\n"
      "the type unless this renews or replaces it (the old one is cancelled at\n"
      "issuance), and the names given (default: the record's) agree with the\n"
      "record. The photo must be a JPEG close to 35:45. Prints the application.\n"
      "A person this office does not hold is asked of the national tier (--national,\n"
      "default national_url in civreg.conf): its answer (record, signed link,\n"
      "inclusion proofs against the holding district's signed tree head) is\n"
      "verified and kept as evidence of the application. The request is bounded by\n"
      "--timeout S (default national_sync_timeout_seconds in civreg.conf, 600) and\n"
      "verified against national_ca when https.\n" },
    { "approve", app_simple, "approve an application: document number and booklet (approver)",
      "usage: civreg application approve ID " SIGNIN "\n"
      "\n"
      "Four eyes: refused for the officer who enrolled it. Allocates the next\n"
      "document number and reserves the next blank booklet.\n" },
    { "reject", app_simple, "reject an application with a reason (approver)",
      "usage: civreg application reject ID --reason TEXT " SIGNIN "\n" },
    { "personalize", app_simple, "produce the data page and chip package (operator)",
      "usage: civreg application personalize ID [--out FILE.pdf] " SIGNIN "\n"
      "\n"
      "Refused unless the application is approved (or failed quality control).\n"
      "Generates the MRZ, the data page PDF and, when the data directory has a\n"
      "document signer, the chip package, all stored as evidence; --out also\n"
      "writes the PDF to FILE.\n" },
    { "qc", app_simple, "record quality control of a personalized document (operator)",
      "usage: civreg application qc ID --pass | --fail --reason TEXT " SIGNIN "\n"
      "\n"
      "A failed check spoils the booklet with the reason; personalize again.\n" },
    { "issue", app_simple, "issue the document: it becomes valid (operator)",
      "usage: civreg application issue ID " SIGNIN "\n" },
    { "collect", app_simple, "record that the holder collected the document",
      "usage: civreg application collect ID " SIGNIN "\n" },
    { "show", app_simple, "show an application with its checks and document",
      "usage: civreg application show ID " SIGNIN "\n" },
    { "list", app_simple, "list applications, newest first",
      "usage: civreg application list [--status S] [--limit N] " SIGNIN "\n" },
    { "datapage", app_simple, "write an application's data page PDF",
      "usage: civreg application datapage ID --out FILE.pdf " SIGNIN "\n" },
    { "chip", app_simple, "write an application's chip package (EF files by FID)",
      "usage: civreg application chip ID --out DIR " SIGNIN "\n"
      "\n"
      "Writes EF.COM, DG1, DG2 and EF.SOD as files named by FID, and\n"
      "manifest.json, into DIR (new or empty); `civreg chip verify DIR --csca F`\n"
      "checks them.\n" },
    { NULL, NULL, NULL, NULL },
};

static const struct cli_family app_family = { "application", app_commands, office_options, "*",
                                              "*" };

int cmd_application(int argc, char **argv)
{
    return cli_family_dispatch(&app_family, argc, argv);
}

static int app_enrol(int argc, char **argv)
{
    const char *cmd = "application enrol";
    struct opts o;
    struct office_session os;
    struct office_enrolment e;
    struct office_national national = { 0 };
    struct buf photo = BUF_INIT(0), sig = BUF_INIT(0);
    struct err err = ERR_INIT;
    json_t *contact = NULL, *out = NULL;
    int rc = office_parse(&app_family, "enrol", 0, NULL, argc, argv, &o, NULL);
    if (rc != CLI_GO)
        return rc;
    if (o.uin == NULL || o.photo == NULL)
        return cli_usage_error(cmd, "--uin and --photo are required");
    if (read_file(o.photo, PHOTO_MAX_BYTES + 1, &photo, &err) != 0 ||
        (o.signature && read_file(o.signature, SIGNATURE_MAX_BYTES + 1, &sig, &err) != 0) ||
        (o.contact && json_parse(o.contact, strlen(o.contact), &contact, &err) != 0)) {
        rc = cli_fail(cmd, &err);
        goto out;
    }
    if ((rc = office_open(cmd, &o, false, &os)) != 0)
        goto out;
    memset(&e, 0, sizeof e);
    e.uin = o.uin;
    e.doc_type = o.type;
    e.kind = o.kind;
    e.replaces = o.replaces;
    e.primary_identifier = o.surname;
    e.secondary_identifier = o.given;
    e.photo = photo.data;
    e.photo_len = photo.len;
    e.signature = sig.data;
    e.signature_len = sig.len;
    e.contact = contact;
    national.url = o.national ? o.national : conf_get(os.s.dd->conf, "national_url", NULL);
    national.ca = conf_get(os.s.dd->conf, "national_ca", NULL);
    if (national.url != NULL) {
        if (cli_national_timeout(os.s.dd->conf, o.common.timeout, &national.timeout_s, &err) !=
            0) {
            rc = cli_fail(cmd, &err);
            office_close(&os);
            goto out;
        }
        os.env.national_ctx = &national;
        os.env.national = cli_national_fetch;
    }
    rc = office_app_enrol(&os.env, &e, &out, &err);
    rc = cli_result(cmd, rc, out, &err);
    office_close(&os);
out:
    json_decref(contact);
    buf_release(&photo);
    buf_release(&sig);
    return rc;
}

/* The commands on one application (list: on all of them). */
enum { APP_APPROVE, APP_REJECT, APP_PERSONALIZE, APP_QC, APP_ISSUE, APP_COLLECT, APP_SHOW,
       APP_DATAPAGE, APP_CHIP, APP_LIST };
static const char *const app_names[] = { "approve", "reject", "personalize", "qc", "issue",
                                         "collect", "show", "datapage", "chip", "list" };
static const int app_npos[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 };

static void app_start(int sub, const struct opts *o, struct office_start *st)
{
    if (sub == APP_REJECT && o->reason == NULL)
        st->problem = "--reason is required";
    else if (sub == APP_QC && o->pass == o->fail)
        st->problem = "give --pass or --fail";
    else if (sub == APP_QC && o->fail && o->reason == NULL)
        st->problem = "--fail needs --reason";
    st->with_pki = sub == APP_PERSONALIZE || (sub == APP_QC && o->pass);
}

/* Quality control: with the office's PKI, a pass reads the chip back first
 * and a chip that fails any check fails QC. */
static int app_qc(struct office_session *os, const struct opts *o, const char *id, json_t **out,
                  struct err *err)
{
#if CLI_HAVE_PKI
    if (o->pass && os->env.pki) {
        json_t *rep = NULL, *ch;
        bool ok = false;
        char why[ERR_MSG_MAX + 64], hash[65] = "";
        size_t i;
        int rc;

        if (chip_qc_readback(&os->env, id, &rep, &ok, err) == 0 && ok) {
            /* the report is stored as evidence, cited by the QC event */
            rc = office_app_qc_report(&os->env, id, true, NULL, rep, hash, err);
            if (rc == 0)
                *out = json_pack("{s:s, s:O, s:s}", "qc", "pass", "chip_readback", rep,
                                 "chip_readback_evidence", hash);
            json_decref(rep);
            return rc;
        }
        if (rep) {
            /* cannot truncate: a constant */
            (void)snprintf(why, sizeof why, "chip read-back failed");
            json_array_foreach(json_object_get(rep, "checks"), i, ch) {
                if (!json_is_true(json_object_get(ch, "valid"))) {
                    /* cannot truncate: a check name and at most 400 bytes of
                     * message in ERR_MSG_MAX + 64 */
                    (void)snprintf(why, sizeof why, "chip read-back failed: %s: %.400s",
                                   json_string_value(json_object_get(ch, "check")),
                                   json_string_value(json_object_get(ch, "message")));
                    break;
                }
            }
            cli_print_json(rep);
        } else
            snprintf(why, sizeof why, "%.500s", err_msg(err));
        if (office_app_qc_report(&os->env, id, false, why, rep, NULL, err) == 0)
            err_set(err, "quality control failed and was recorded: %s", why);
        json_decref(rep);
        return -1;
    }
#endif
    return office_app_qc(&os->env, id, o->pass, o->reason, err);
}

static int app_body(int sub, struct office_session *os, const struct opts *o, const char *id,
                    json_t **out, struct err *err)
{
    int rc;

    switch (sub) {
    case APP_APPROVE: return office_app_approve(&os->env, id, out, err);
    case APP_REJECT: return office_app_reject(&os->env, id, o->reason, err);
    case APP_PERSONALIZE:
        rc = office_app_personalize(&os->env, id, out, err);
        return rc == 0 && o->out ? app_write_datapage(os, id, o->out, err) : rc;
    case APP_QC: return app_qc(os, o, id, out, err);
    case APP_ISSUE: return office_app_issue(&os->env, id, err);
    case APP_COLLECT: return office_app_collect(&os->env, id, err);
    case APP_SHOW: return office_app_show(&os->env, id, out, err);
    case APP_DATAPAGE:
    case APP_CHIP:
        if (o->out == NULL) {
            err_set(err, "--out is required");
            return OFFICE_USAGE;
        }
        return sub == APP_CHIP ? office_app_chip_package(&os->env, id, o->out, err)
                               : app_write_datapage(os, id, o->out, err);
    default: return office_app_list(&os->env, o->status, (int)o->limit, out, err);
    }
}

static const struct office_subs app_subs = { &app_family, app_names, app_npos, APP_LIST + 1,
                                             "an application id", app_start, app_body };

static int app_simple(int argc, char **argv)
{
    return office_run(&app_subs, argc, argv);
}

/* ---- civreg document (besides datapage) -------------------------------- */

enum { DOC_STATUS, DOC_SHOW, DOC_EXPIRE, DOC_ALERTS, DOC_TRACE, DOC_SERIES };
static const char *const doc_names[] = { "status", "show", "expire", "alerts", "trace", "series" };
static const int doc_npos[] = { 1, 1, 0, 0, 1, 0 };

static void doc_start(int sub, const struct opts *o, struct office_start *st)
{
    if (sub == DOC_STATUS && (o->status == NULL || o->reason == NULL))
        st->problem = "--status and --reason are required";
    /* Setting a number pattern is its own action (cli/actions.c). */
    if (sub == DOC_SERIES && (o->type || o->pattern))
        st->as = "document series --pattern";
}

/* Mark document NUM with --status, --reason and the comma-separated blob
 * hashes of --evidence (see `civreg evidence add`). */
static int doc_set_status(struct office_session *os, const struct opts *o, const char *num,
                          struct err *err)
{
    json_t *ev = NULL;
    int rc;

    if (o->evidence) {
        char *copy = strdup(o->evidence), *p = copy;
        bool bad = copy == NULL; /* an evidence hash that could not be added */
        ev = json_array();
        bad |= ev == NULL;
        while (p && *p) {
            char *comma = strchr(p, ',');
            if (comma)
                *comma = '\0';
            bad |= json_array_append_new(ev, json_string(p)) != 0;
            p = comma ? comma + 1 : NULL;
        }
        free(copy);
        if (bad) {
            json_decref(ev);
            return err_oom(err);
        }
    }
    rc = office_document_set_status(&os->env, num, o->status, o->reason, ev, err);
    json_decref(ev);
    return rc;
}

static int doc_body(int sub, struct office_session *os, const struct opts *o, const char *num,
                    json_t **out, struct err *err)
{
    switch (sub) {
    case DOC_STATUS: return doc_set_status(os, o, num, err);
    case DOC_SHOW: return office_document_show(&os->env, num, out, err);
    case DOC_EXPIRE: {
        int n = 0;
        if (office_documents_expire(&os->env, &n, err) != 0)
            return -1;
        *out = json_pack("{s:i}", "expired", n);
        return 0;
    }
    case DOC_ALERTS: {
        struct buf b = BUF_INIT(256 << 20);
        int rc = office_documents_alerts(&os->env, o->format ? o->format : "csv", &b, err);
        if (rc == 0)
            rc = write_file(o->out ? o->out : "-", b.data ? b.data : (unsigned char *)"", b.len,
                            err);
        buf_release(&b);
        return rc;
    }
    case DOC_TRACE: return office_document_trace(&os->env, num, out, err);
    default:
        if (o->type || o->pattern) {
            if (o->type == NULL || o->pattern == NULL) {
                err_set(err, "--type and --pattern go together");
                return OFFICE_USAGE;
            }
            if (office_number_series_set(os->env.db, &os->env.actor, o->type, o->pattern, err) !=
                0)
                return -1;
        }
        return office_number_series_list(os->env.db, os->env.actor.office, out, err);
    }
}

static const struct office_subs doc_subs = { &document_family, doc_names, doc_npos,
                                             DOC_SERIES + 1, "a document number", doc_start,
                                             doc_body };

static int doc_office(int argc, char **argv)
{
    return office_run(&doc_subs, argc, argv);
}

/* ---- civreg booklet ---------------------------------------------------- */

static cli_run_fn booklet_cmd;

static const struct cli_command booklet_commands[] = {
    { "receive", booklet_cmd, "receive a delivery of blank booklets (operator)",
      "usage: civreg booklet receive --type TD3|TD1 --first SERIAL --last SERIAL\n"
      "       --reference TEXT " SIGNIN "\n"
      "\n"
      "Serials are up to 8 letters then digits; both ends share the letters and\n"
      "the digit count (B000100..B000199). Refused whole when any is in stock.\n" },
    { "spoil", booklet_cmd, "record a spoiled booklet with a reason (operator)",
      "usage: civreg booklet spoil SERIAL --reason TEXT " SIGNIN "\n" },
    { "report", booklet_cmd, "stock report: counts per status, deliveries, spoiled",
      "usage: civreg booklet report " SIGNIN "\n" },
    { "show", booklet_cmd, "one booklet and its movements",
      "usage: civreg booklet show SERIAL " SIGNIN "\n" },
    { NULL, NULL, NULL, NULL },
};

static const struct cli_family booklet_family = { "booklet", booklet_commands, office_options,
                                                  "*", "*" };

int cmd_booklet(int argc, char **argv)
{
    return cli_family_dispatch(&booklet_family, argc, argv);
}

enum { BOOKLET_RECEIVE, BOOKLET_SPOIL, BOOKLET_REPORT, BOOKLET_SHOW };
static const char *const booklet_names[] = { "receive", "spoil", "report", "show" };
static const int booklet_npos[] = { 0, 1, 0, 1 };

static void booklet_start(int sub, const struct opts *o, struct office_start *st)
{
    if (sub == BOOKLET_RECEIVE && (!o->type || !o->first || !o->last || !o->reference))
        st->problem = "--type, --first, --last and --reference are required";
    else if (sub == BOOKLET_SPOIL && o->reason == NULL)
        st->problem = "--reason is required";
}

static int booklet_body(int sub, struct office_session *os, const struct opts *o,
                        const char *serial, json_t **out, struct err *err)
{
    switch (sub) {
    case BOOKLET_RECEIVE:
        return office_booklets_receive(os->env.db, &os->env.actor, o->type, o->first, o->last,
                                       o->reference, out, err);
    case BOOKLET_SPOIL:
        return office_booklet_spoil(os->env.db, &os->env.actor, serial, o->reason, err);
    case BOOKLET_REPORT: return office_booklet_report(os->env.db, out, err);
    default: return office_booklet_show(os->env.db, serial, out, err);
    }
}

static const struct office_subs booklet_subs = { &booklet_family, booklet_names, booklet_npos,
                                                 BOOKLET_SHOW + 1, "a booklet serial",
                                                 booklet_start, booklet_body };

static int booklet_cmd(int argc, char **argv)
{
    return office_run(&booklet_subs, argc, argv);
}
