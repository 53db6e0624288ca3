#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_registry.h"
#include "core/encode.h"
#include "core/json.h"
#include "db/datadir.h"
#include "db/db.h"
#include "issuance/passport/passport.h"
#include "issuance/pki/pki.h"
#include "registry/projection.h"
#include "registry/registry.h"

static cli_run_fn audit_verify, audit_trace, audit_proof, audit_export, audit_verify_bundle,
    audit_head;

void cli_audit_init(void)
{
    registry_audit_register(office_projection());
    registry_audit_register(pki_projection());
}

static const struct cli_command audit_commands[] = {
    { "verify", audit_verify, "re-verify every hash, signature and tree head",
      "usage: civreg audit verify [--data DIR] [--office-key HEX]\n"
      "\n"
      "Re-hashes every record version and evidence file, checks every event's\n"
      "signature with the keys the log published, rebuilds the RFC 6962 Merkle\n"
      "tree, checks every signed tree head and keys/tree-head.json, and compares\n"
      "every table row with what the signed events say. Prints one line per\n"
      "problem naming the row, event or file. Exit 0 when everything holds, 1\n"
      "otherwise. --office-key pins the office public key (64 hex digits) to\n"
      "trust instead of the one in the database.\n" },
    { "trace", audit_trace, "provenance of a person, record or document number, as JSON",
      "usage: civreg audit trace ID [--data DIR] [--user U [--password-file F]]\n"
      "\n"
      "ID is a UIN, registration number or record id. Prints the person, every\n"
      "record version, the evidence, and every event with signer, time,\n"
      "signature validity and inclusion proof against the latest signed tree\n"
      "head. ID may also be a travel document number: then the document, its\n"
      "application and their events come first (as `civreg document trace`).\n" },
    { "proof", audit_proof, "inclusion or consistency proof, as JSON",
      "usage: civreg audit proof --inclusion SEQ [--size N] [--data DIR]\n"
      "       civreg audit proof --consistency SIZE1 [--size SIZE2] [--data DIR]\n"
      "\n"
      "RFC 6962 audit path of event SEQ in the tree of N events, or the\n"
      "consistency proof between tree sizes SIZE1 and SIZE2 (default: the\n"
      "latest signed tree head; heads are signed once per transaction, so\n"
      "a given N may have none: the answer says signed_tree_head false).\n" },
    { "export", audit_export, "write a self-contained, offline-verifiable bundle",
      "usage: civreg audit export ID --out FILE [--data DIR] [--user U [--password-file F]]\n"
      "\n"
      "Writes the events, record versions, link statements, signed tree head\n"
      "and inclusion proofs of ID to FILE (JSON). `civreg audit verify-bundle`\n"
      "checks it with nothing but the office public key.\n" },
    { "verify-bundle", audit_verify_bundle, "verify a bundle offline",
      "usage: civreg audit verify-bundle FILE --office-key HEX\n"
      "\n"
      "Needs no database: trusts only the office public key given (see\n"
      "`civreg audit head`). Exit 0 when the bundle verifies, 1 with one line\n"
      "per problem otherwise.\n" },
    { "head", audit_head, "print the latest signed tree head and the office key",
      "usage: civreg audit head [--data DIR]\n" },
    { NULL, NULL, NULL, NULL },
};

struct audit_opts {
    struct cli_common_opts common;
    const char *office_key, *out;
    long inclusion, consistency, size;
    const char *arg;
};

static const struct cli_opt audit_options[] = {
    CLI_OPT_STR("office-key", struct audit_opts, office_key, "verify verify-bundle", "HEX"),
    CLI_OPT_STR("out", struct audit_opts, out, "export", "FILE"),
    CLI_OPT_INT("inclusion", struct audit_opts, inclusion, 0, LONG_MAX, "proof"),
    CLI_OPT_INT("consistency", struct audit_opts, consistency, 0, LONG_MAX, "proof"),
    CLI_OPT_INT("size", struct audit_opts, size, 0, LONG_MAX, "proof"),
    CLI_OPT_END,
};

static const struct cli_family audit_family = { "audit", audit_commands, audit_options,
                                                "verify trace proof export head",
                                                "trace export" };

int cmd_audit(int argc, char **argv)
{
    return cli_family_dispatch(&audit_family, argc, argv);
}

#define PARSE(name, nargs_)                                                                         \
    do {                                                                                           \
        int prc_ = cli_parse(&audit_family, name, &o, argc, argv, nargs_, nargs_,                    \
                             "an ID or FILE argument");                                            \
        if (prc_ != CLI_GO)                                                                        \
            return prc_;                                                                           \
        o.arg = o.common.nargs ? o.common.args[0] : NULL;                                          \
    } while (0)

static void print_problem(void *ctx, const char *line)
{
    (void)ctx;
    printf("%s\n", line);
}

static int office_key_arg(const char *cmd, const char *hex, unsigned char out[32])
{
    size_t n = 0;

    if (hex == NULL || strlen(hex) != 64 || hex_decode(hex, 64, out, 32, &n, NULL) != 0 || n != 32)
        return cli_usage_error(cmd, "--office-key must be 64 hex digits (see `civreg audit head`)");
    return 0;
}

static int audit_verify(int argc, char **argv)
{
    struct audit_opts o = { .inclusion = -1, .consistency = -1 };
    struct cli_session s;
    struct registry_audit_stats st;
    struct err err = ERR_INIT;
    unsigned char key[32];
    int rc, problems;

    PARSE("verify", 0);
    if (o.office_key && office_key_arg("audit verify", o.office_key, key) != 0)
        return EXIT_USAGE;
    if ((rc = cli_session_open("audit verify", o.common.data, NULL, NULL, false, &s)) != 0)
        return rc;
    problems = registry_audit_verify(s.db, s.dd->keys_dir, s.dd->blobs_dir,
                                     o.office_key ? key : NULL, print_problem, NULL, &st, &err);
    fflush(stdout);
    if (problems < 0) {
        rc = cli_fail("audit verify", &err);
    } else if (problems > 0) {
        fprintf(stderr, "civreg audit verify: %d problem%s found (%llu events, %llu tree heads)\n",
                problems, problems == 1 ? "" : "s", (unsigned long long)st.events,
                (unsigned long long)st.tree_heads);
        rc = EXIT_FAIL;
    } else {
        printf("ok: %llu events, %llu signed tree heads, %llu record versions, %llu evidence "
               "files verified\n",
               (unsigned long long)st.events, (unsigned long long)st.tree_heads,
               (unsigned long long)st.records, (unsigned long long)st.blobs);
        rc = EXIT_OK;
    }
    cli_session_close(&s);
    return rc;
}

static int do_trace(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    const struct audit_opts *o = opts;
    /* A document number traces through its application to the person. */
    struct office_env env = { s->db, s->dd->blobs_dir, s->dd->keys_dir, s->actor, NULL, { 0 } };
    json_t *doc = NULL;

    if (office_document_show(&env, o->arg, &doc, err) == 0) {
        json_decref(doc);
        return office_document_trace(&env, o->arg, out, err);
    }
    err_clear(err);
    return registry_audit_trace(s->db, s->actor, o->arg, out, err);
}

static int audit_trace(int argc, char **argv)
{
    struct audit_opts o = { .inclusion = -1, .consistency = -1 };

    PARSE("trace", 1);
    return cli_run_session("audit trace", &o.common, false, do_trace, &o);
}

static int do_proof(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    const struct audit_opts *o = opts;

    if (o->inclusion >= 0)
        return registry_audit_inclusion(s->db, (uint64_t)o->inclusion, (uint64_t)o->size, out,
                                        err);
    return registry_audit_consistency(s->db, (uint64_t)o->consistency, (uint64_t)o->size, out,
                                      err);
}

static int audit_proof(int argc, char **argv)
{
    struct audit_opts o = { .inclusion = -1, .consistency = -1 };

    PARSE("proof", 0);
    if ((o.inclusion < 0) == (o.consistency < 0))
        return cli_usage_error("audit proof", "give one of --inclusion SEQ or --consistency SIZE1");
    return cli_run_session("audit proof", &o.common, false, do_proof, &o);
}

static int do_export(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    const struct audit_opts *o = opts;
    json_t *bundle = NULL;
    int rc = -1;

    (void)out;
    if (registry_audit_export(s->db, s->actor, o->arg, &bundle, err) != 0)
        goto done;
    if (json_dump_file(bundle, o->out, JSON_INDENT(1)) != 0) {
        err_set(err, "%s: cannot write", o->out);
        goto done;
    }
    printf("wrote %s (%zu events)\n", o->out, json_array_size(json_object_get(bundle, "events")));
    rc = 0;
done:
    json_decref(bundle);
    return rc;
}

static int audit_export(int argc, char **argv)
{
    struct audit_opts o = { .inclusion = -1, .consistency = -1 };

    PARSE("export", 1);
    if (o.out == NULL)
        return cli_usage_error("audit export", "--out FILE is required");
    return cli_run_session("audit export", &o.common, false, do_export, &o);
}

/* The largest bundle file verify-bundle reads. */
#define BUNDLE_MAX (256u << 20)

static int audit_verify_bundle(int argc, char **argv)
{
    struct audit_opts o = { .inclusion = -1, .consistency = -1 };
    struct err err = ERR_INIT;
    unsigned char key[32];
    json_t *b;
    int problems;

    PARSE("verify-bundle", 1);
    if (o.office_key == NULL)
        return cli_usage_error("audit verify-bundle", "--office-key HEX is required");
    if (office_key_arg("audit verify-bundle", o.office_key, key) != 0)
        return EXIT_USAGE;
    /* Through json_parse like every JSON input: a bundle is untrusted, and
     * its nesting depth is bounded before jansson's recursive parser runs. */
    if (json_parse_file(o.arg, BUNDLE_MAX, &b, &err) != 0)
        return cli_fail("audit verify-bundle", &err);
    problems = registry_bundle_verify(b, key, print_problem, NULL, &err);
    fflush(stdout);
    if (problems < 0) {
        json_decref(b);
        return cli_fail("audit verify-bundle", &err);
    }
    if (problems > 0) {
        fprintf(stderr, "civreg audit verify-bundle: %d problem%s in %s\n", problems,
                problems == 1 ? "" : "s", o.arg);
        json_decref(b);
        return EXIT_FAIL;
    }
    printf("ok: %zu events included in the tree of %s signed by the office key\n",
           json_array_size(json_object_get(b, "events")),
           json_string_value(json_object_get(json_object_get(b, "tree_head"), "root_hash")));
    json_decref(b);
    return EXIT_OK;
}

static int do_head(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    unsigned char pk[32];
    char pk_hex[65];

    (void)opts;
    if (registry_log_head(s->db, out, err) != 0 ||
        registry_office_public_key(s->db, conf_get(s->dd->conf, "office", DATADIR_DEFAULT_OFFICE),
                                   pk, err) != 0)
        return -1;
    hex_encode(pk, 32, pk_hex);
    (void)json_object_set_new(*out, "office_public_key", json_string(pk_hex));
    return 0;
}

static int audit_head(int argc, char **argv)
{
    struct audit_opts o = { .inclusion = -1, .consistency = -1 };

    PARSE("head", 0);
    return cli_run_session("audit head", &o.common, false, do_head, &o);
}
