/* civreg chip: personalization packages and passive authentication
 * (issuance/chip.h, issuance/passive_auth.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_chip.h"
#include "cli_pki.h"
#include "core/json.h"
#include "issuance/pki/pki.h"
#include "issuance/icao/icao.h"
#include "issuance/pki/pki.h"
#include "issuance/reader/reader.h"
#include "registry/registry.h"

static cli_run_fn chip_personalize_cmd, chip_verify_cmd;

static const struct cli_command chip_commands[] = {
    { "personalize", chip_personalize_cmd, "build the chip contents (LDS + EF.SOD)",
      "usage: civreg chip personalize --out DIR --photo FACE.jpg --user U [--password-file F]\n"
      "                               (--mrz-json F | --mrz-lines F) [--data DATA]\n"
      "                               [--dg11 F.json] [--dg12 F.json] [--aa ALG]\n"
      "                               [--digest sha256|sha384|sha512|sha224|sha1]\n"
      "                               [--lso-v1] [--ds SERIAL] [--pace | --pace-im]\n"
      "                               [--ca [--ca-curve P-256|brainpoolP256r1]]\n"
      "\n"
      "Writes one file per elementary file, named by its file identifier (011E\n"
      "EF.COM, 0101 DG1, 0102 DG2, 010B DG11, 010C DG12, 010F DG15, 011D EF.SOD),\n"
      "and manifest.json, into DIR (created; must be empty). EF.SOD is signed by\n"
      "the current Document Signer of DATA (or SERIAL). U is an issuance operator\n"
      "(or admin); the signature is recorded as a chip.personalize event of the\n"
      "provenance log, signed by U.\n"
      "  --mrz-lines F  a file holding the MRZ lines\n"
      "  --mrz-json F   the JSON object `civreg mrz generate` takes\n"
      "  --dg11 F       JSON: full_name, other_names, personal_number,\n"
      "                 date_of_birth, place_of_birth, address, telephone,\n"
      "                 profession, title, personal_summary, other_td_numbers,\n"
      "                 custody_information\n"
      "  --dg12 F       JSON: issuing_authority, date_of_issue, endorsements,\n"
      "                 tax_exit_requirements, personalization_time,\n"
      "                 personalization_device\n"
      "  --aa ALG       add DG15 with a new Active Authentication key (ecdsa-p256 or\n"
      "                 rsa-2048); its private half goes to aa-private-key.p8\n"
      "                 (mode 0600) for loading into the chip only\n"
      "  --lso-v1       LDSSecurityObject version 1 (LDS 1.8 version info)\n"
      "  --pace         add EF.CardAccess (011C) offering PACE, ECDH generic mapping\n"
      "                 on brainpoolP256r1 with AES-128 (`chip emulate` speaks it)\n"
      "  --pace-im      the same with the integrated mapping instead (ECDH-IM)\n"
      "  --ca           add DG14 with a new Chip Authentication key (ECDH, AES-128,\n"
      "                 brainpoolP256r1 unless --ca-curve P-256); its private half\n"
      "                 goes to ca-private-key.p8 (mode 0600) for the chip only\n" },
    { "verify", chip_verify_cmd, "passive authentication of chip contents",
      "usage: civreg chip verify DIR --csca F [--csca F ...] [--crl F ...]\n"
      "                          [--mrz LINES | --mrz-file F]\n"
      "\n"
      "Checks the elementary files in DIR (named by FID) as a border inspection\n"
      "system does: the EF.SOD signature, the Document Signer -> CSCA path, the\n"
      "certificates' validity and the DS private key usage period at signing\n"
      "time, revocation on the given CRLs, every data group's hash, and DG1\n"
      "against the printed MRZ. --csca takes PEM or DER certificates or an ICAO\n"
      "master list (PEM or DER). Prints a JSON report {\"valid\", \"checks\":\n"
      "[{\"check\", \"valid\", \"message\"}], \"sod\"}; exit 0 when every check\n"
      "holds, 1 otherwise.\n" },
    { "read", chip_read_cmd, "read a chip through PC/SC (BAC, passive and active authentication)",
      chip_read_usage },
    { "emulate", chip_emulate_cmd, "answer as the chip of a package behind the virtual reader",
      chip_emulate_usage },
    { NULL, NULL, NULL, NULL },
};


#define CHIP_STR(name, field, subs, arg) CLI_OPT_STR(name, struct chip_opts, field, subs, arg)
static const struct cli_opt chip_options[] = {
    CHIP_STR("out", out, "personalize read", "DIR"),
    CHIP_STR("photo", photo, "personalize", "FACE.jpg"),
    CHIP_STR("mrz-json", mrz_json, "personalize", "FILE"),
    CHIP_STR("mrz-lines", mrz_lines, "personalize", "FILE"),
    CHIP_STR("dg11", dg11, "personalize", "FILE"),
    CHIP_STR("dg12", dg12, "personalize", "FILE"),
    CHIP_STR("aa", aa, "personalize", "ALG"),
    CHIP_STR("digest", digest, "personalize", "ALG"),
    CLI_OPT_FLAG("lso-v1", struct chip_opts, lso_v1, "personalize"),
    CHIP_STR("ds", ds, "personalize", "SERIAL"),
    CLI_OPT_FLAG("pace", struct chip_opts, pace, "personalize"),
    CLI_OPT_FLAG("ca", struct chip_opts, ca, "personalize"),
    CLI_OPT_FLAG("pace-im", struct chip_opts, pace_im, "personalize"),
    CHIP_STR("ca-curve", ca_curve, "personalize", "CURVE"),
    CLI_OPT_LIST("csca", struct chip_opts, csca, "verify read", "FILE"),
    CLI_OPT_LIST("crl", struct chip_opts, crl, "verify read", "FILE"),
    CHIP_STR("mrz", mrz, "verify read", "LINES"),
    CHIP_STR("mrz-file", mrz_file, "verify read", "FILE"),
    CHIP_STR("can", can, "read emulate", "N"),
    CHIP_STR("reader", reader, "read", "NAME"),
    CLI_OPT_INT("wait", struct chip_opts, wait, 0, 3600, "read emulate"),
    CLI_OPT_INT("chunk", struct chip_opts, chunk, 8, 65536, "read"),
    CLI_OPT_FLAG("extended", struct chip_opts, extended, "read"),
    CLI_OPT_FLAG("bac", struct chip_opts, bac, "read"),
    CHIP_STR("host", host, "emulate", "H"),
    CLI_OPT_INT("port", struct chip_opts, port, 1, 65535, "emulate"),
    CLI_OPT_FLAG("verbose", struct chip_opts, verbose, "emulate"),
    CLI_OPT_END,
};

const struct cli_family chip_family = { "chip", chip_commands, chip_options,
                                               "personalize", "personalize" };

int cmd_chip(int argc, char **argv)
{
    return cli_family_dispatch(&chip_family, argc, argv);
}

#define JSON_INPUT_MAX (1 << 20)
#define PHOTO_MAX (4 << 20)

static int load_json(const char *path, json_t **out, struct err *err)
{
    struct buf b = BUF_INIT(JSON_INPUT_MAX);
    int rc;

    if (cli_read_file(path, JSON_INPUT_MAX, &b, err) != 0)
        return -1;
    rc = json_parse(buf_str(&b), b.len, out, err);
    buf_release(&b);
    if (rc != 0)
        return err_prefix(err, "%s", path);
    return 0;
}

/* The MRZ lines of a --mrz-json document (the input of `civreg mrz
 * generate`, issuance/mrz.h); warnings go to stderr. */
static int mrz_from_json(const json_t *in, struct buf *lines, struct err *err)
{
    struct buf warnings = BUF_INIT(64 * 1024);
    int rc = mrz_generate_json(in, lines, &warnings, err);
    if (rc == 0 && warnings.len)
        fprintf(stderr, "civreg chip personalize: mrz: %s\n", buf_str(&warnings));
    buf_release(&warnings);
    return rc;
}

/* EF.CardAccess (011C) offering PACE, ECDH generic (or integrated, IM)
 * mapping on brainpoolP256r1 */
static int write_card_access(const char *dir, bool im, struct err *err)
{
    struct buf ca = BUF_INIT(256);
    char path[4096];
    int rc;
    if ((size_t)snprintf(path, sizeof path, "%s/011C", dir) >= sizeof path)
        return err_set(err, "chip: path too long");
    rc = rd_card_access_pace(im ? 13 | RD_PACE_IM : 13, &ca, err) == 0 && cli_write_file(path, ca.data, ca.len, err) == 0
             ? 0
             : -1;
    buf_release(&ca);
    return rc;
}

static int chip_personalize_cmd(int argc, char **argv)
{
    struct chip_opts o = { 0 };
    bool pace;
    const char *data, *outdir, *photo, *mrz_json, *mrz_lines, *dg11, *dg12, *user,
        *password_file;
    struct cli_session sess = { 0 };
    struct chip_input in = { 0 };
    struct chip_package pkg = CHIP_PACKAGE_INIT;
    struct buf mrz = BUF_INIT(4096), img = BUF_INIT(PHOTO_MAX);
    json_t *j11 = NULL, *j12 = NULL, *jm = NULL;
    struct pki *p = NULL;
    struct err err = ERR_INIT;
    int rc = EXIT_FAIL;

    if ((rc = cli_parse(&chip_family, "personalize", &o, argc, argv, 0, 0, NULL)) != CLI_GO)
        return rc;
    rc = EXIT_FAIL;
    data = o.common.data;
    user = o.common.user;
    password_file = o.common.password_file;
    outdir = o.out;
    photo = o.photo;
    mrz_json = o.mrz_json;
    mrz_lines = o.mrz_lines;
    dg11 = o.dg11;
    dg12 = o.dg12;
    in.aa_algorithm = o.aa;
    in.digest = o.digest;
    in.lso_version = o.lso_v1 ? 1 : 0;
    in.ds_serial = o.ds;
    if (o.pace && o.pace_im)
        return cli_usage_error("chip personalize", "--pace and --pace-im: choose one mapping");
    pace = o.pace || o.pace_im;
    if (o.ca || o.ca_curve != NULL)
        in.ca_param = 13;
    if (o.ca_curve != NULL) {
        if (strcmp(o.ca_curve, "P-256") == 0 || strcmp(o.ca_curve, "p256") == 0)
            in.ca_param = 12;
        else if (strcmp(o.ca_curve, "brainpoolP256r1") != 0)
            return cli_usage_error("chip personalize", "--ca-curve is P-256 or brainpoolP256r1");
    }
    if (outdir == NULL || photo == NULL)
        return cli_usage_error("chip personalize", "--out and --photo are required");
    if ((mrz_json == NULL) == (mrz_lines == NULL))
        return cli_usage_error("chip personalize", "give exactly one of --mrz-json and --mrz-lines");
    data = cli_data_dir(data);

    if (chip_package_check_dir(outdir, &err) != 0)
        goto out;
    if (mrz_lines) {
        if (cli_read_file(mrz_lines, 4096, &mrz, &err) != 0)
            goto out;
    } else if (load_json(mrz_json, &jm, &err) != 0 || mrz_from_json(jm, &mrz, &err) != 0) {
        goto out;
    }
    if (cli_read_file(photo, PHOTO_MAX, &img, &err) != 0 ||
        (dg11 && load_json(dg11, &j11, &err) != 0) || (dg12 && load_json(dg12, &j12, &err) != 0))
        goto out;
    in.mrz = buf_str(&mrz);
    in.photo = img.data;
    in.photo_len = img.len;
    in.dg11 = j11;
    in.dg12 = j12;
    in.now = time(NULL);
    if (pki_open(data, false, &p, &err) != 0)
        goto out;
    {
        int src = cli_pki_sign_in("chip personalize", data, user, password_file, true,
                                  registry_action_roles("chip.personalize"), "personalize chips", p,
                                  &sess);
        if (src != EXIT_OK) {
            pki_close(p);
            p = NULL;
            rc = src;
            goto done;
        }
    }
    if (chip_personalize(p, &in, &pkg, &err) != 0 || chip_package_write(&pkg, outdir, &err) != 0)
        goto out;
    if (pace && write_card_access(outdir, o.pace_im, &err) != 0)
        goto out;
    {
        char *s = json_dumps(pkg.manifest, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
            printf("%s\n", s);
        free(s);
    }
    rc = EXIT_OK;
out:
    if (rc != EXIT_OK)
        cli_fail("chip personalize", &err);
done:
    chip_package_release(&pkg);
    pki_close(p);
    cli_session_close(&sess);
    json_decref(j11);
    json_decref(j12);
    json_decref(jm);
    buf_release(&mrz);
    buf_release(&img);
    return rc;
}

int chip_trust_load(const struct chip_opts *o, struct pa_trust **trust, int *ncsca,
                    struct buf *mrzb, const char **mrz, struct err *err)
{
    *ncsca = 0;
    *mrz = o->mrz;
    if (pa_trust_new(trust, err) != 0)
        return -1;
    for (size_t i = 0; i < o->csca.n + o->crl.n; i++) {
        bool is_csca = i < o->csca.n;
        const char *path = is_csca ? o->csca.v[i] : o->crl.v[i - o->csca.n];
        struct buf f = BUF_INIT(TRUST_FILE_MAX);
        int r = cli_read_file(path, TRUST_FILE_MAX, &f, err) != 0 ||
                (is_csca ? pa_trust_add_csca(*trust, f.data, f.len, path, err)
                         : pa_trust_add_crl(*trust, f.data, f.len, path, err)) != 0;
        *ncsca += is_csca;
        buf_release(&f);
        if (r)
            return -1;
    }
    if (o->mrz_file) {
        if (cli_read_file(o->mrz_file, 4096, mrzb, err) != 0)
            return -1;
        *mrz = buf_str(mrzb);
    }
    return 0;
}

static int chip_verify_cmd(int argc, char **argv)
{
    struct chip_opts o = { 0 };
    struct pa_trust *trust = NULL;
    struct chip_package pkg = CHIP_PACKAGE_INIT;
    struct pa_chip view;
    struct buf mrzb = BUF_INIT(4096);
    const char *mrz = NULL, *dir;
    json_t *report = NULL;
    struct err err = ERR_INIT;
    bool valid = false;
    int rc = EXIT_FAIL, ncsca = 0;

    if ((rc = cli_parse(&chip_family, "verify", &o, argc, argv, 1, 1,
                        "the package folder DIR")) != CLI_GO)
        return rc;
    rc = EXIT_FAIL;
    if (chip_trust_load(&o, &trust, &ncsca, &mrzb, &mrz, &err) != 0) {
        rc = cli_fail("chip verify", &err);
        goto out;
    }
    if (ncsca == 0) {
        rc = cli_usage_error("chip verify", "--csca is required (CSCA certificates or a master "
                                            "list)");
        goto out;
    }
    dir = o.common.args[0];
    if (chip_package_read(dir, &pkg, &err) != 0) {
        rc = cli_fail("chip verify", &err);
        goto out;
    }
    chip_package_view(&pkg, &view);
    if (passive_auth(&view, trust, mrz, time(NULL), &report, &valid, &err) != 0) {
        rc = cli_fail("chip verify", &err);
        goto out;
    }
    rc = cli_chip_report("chip verify", report, valid);
out:
    json_decref(report);
    chip_package_release(&pkg);
    pa_trust_free(trust);
    buf_release(&mrzb);
    return rc;
}

int cli_chip_report(const char *command, const json_t *report, bool valid)
{
    size_t i;
    json_t *c;
    char *s = json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (s == NULL) {
        fprintf(stderr, "civreg %s: out of memory\n", command);
        return EXIT_FAIL;
    }
    printf("%s\n", s);
    free(s);
    if (!valid)
        json_array_foreach(json_object_get(report, "checks"), i, c) {
            if (!json_is_true(json_object_get(c, "valid")))
                fprintf(stderr, "civreg %s: %s: %s\n", command,
                        json_string_value(json_object_get(c, "check")),
                        json_string_value(json_object_get(c, "message")));
        }
    return valid ? EXIT_OK : EXIT_FAIL;
}
