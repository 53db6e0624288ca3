/* civreg chip read | emulate: the inspection system over PC/SC and the
 * virtual chip behind the vsmartcard virtual reader (issuance/reader). */
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_chip.h"
#include "issuance/pki/pki.h"
#include "issuance/passport/passport.h"
#include "issuance/icao/icao.h"
#include "issuance/reader/reader.h"

const char chip_read_usage[] =
    "usage: civreg chip read (--mrz LINES | --mrz-file F | --can N) --csca F [--csca F ...]\n"
    "                        [--crl F ...] [--reader NAME] [--out DIR] [--wait S]\n"
    "                        [--chunk N] [--extended] [--bac]\n"
    "\n"
    "Reads an eMRTD chip through PC/SC as a border inspection system does:\n"
    "EF.CardAccess, then PACE (ECDH generic mapping, AES) with the MRZ or the CAN\n"
    "when the chip offers it, otherwise Basic Access Control with the keys of the\n"
    "MRZ (document number, date of birth, date of expiry); SELECT of the eMRTD\n"
    "application, then EF.COM, every\n"
    "data group it lists and EF.SOD under secure messaging (READ BINARY in\n"
    "chunks of N bytes, 223 by default; --extended uses extended-length APDUs),\n"
    "passive authentication (as `civreg chip verify`) and Active Authentication\n"
    "against DG15. Prints the JSON report of `chip verify` plus \"access\",\n"
    "\"aa\", \"ca\", \"files\" and \"timings\"; exit 0 when every check holds.\n"
    "  --reader NAME  the PC/SC reader whose name contains NAME (default: the\n"
    "                 first reader holding a card)\n"
    "  --out DIR      write the files read, named by FID, into DIR (new or empty)\n"
    "  --wait S       seconds to wait for a card (default 10)\n"
    "  --can N        PACE with the card access number printed on the data page\n"
    "  --bac          BAC even when the chip offers PACE\n";

const char chip_emulate_usage[] =
    "usage: civreg chip emulate DIR [--host H] [--port P] [--wait S] [--can N] [--verbose]\n"
    "\n"
    "Acts as the eMRTD chip holding the package DIR (from `chip personalize`)\n"
    "behind the vsmartcard virtual reader: connects to pcscd's vpcd driver at\n"
    "H:P (localhost:35963 by default; the CHANNELID of /etc/reader.conf.d/vpcd)\n"
    "and answers APDUs with the access rules of a real chip: nothing but the\n"
    "application and EF.CardAccess before BAC, secure messaging afterwards,\n"
    "the session ended by a plain command or a wrong MAC; Active Authentication\n"
    "with aa-private-key.p8; PACE (MRZ, or --can N) when DIR has EF.CardAccess\n"
    "(`chip personalize --pace`). Runs until pcscd closes the connection or the\n"
    "process gets SIGINT/SIGTERM.\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

int chip_emulate_cmd(int argc, char **argv)
{
    struct chip_opts o = { .host = "localhost", .port = 35963, .wait = 30 };
    struct vchip *c = NULL;
    struct err err = ERR_INIT;
    struct sigaction sa;
    int rc;

    if ((rc = cli_parse(&chip_family, "emulate", &o, argc, argv, 1, 1,
                        "the package folder DIR")) != CLI_GO)
        return rc;
    if (vchip_open(o.common.args[0], &c, &err) != 0)
        return cli_fail("chip emulate", &err);
    if (o.can && vchip_set_can(c, o.can, &err) != 0) {
        vchip_free(c);
        return cli_fail("chip emulate", &err);
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocked read returns */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = vchip_serve_vpcd(c, o.host, (int)o.port, (int)o.wait, &stop_flag,
                          o.verbose ? stderr : NULL, &err);
    vchip_free(c);
    return rc == 0 ? EXIT_OK : cli_fail("chip emulate", &err);
}

int chip_read_cmd(int argc, char **argv)
{
    struct chip_opts co = { .wait = 10 };
    struct pa_trust *trust = NULL;
    struct buf mrzb = BUF_INIT(4096);
    struct rd_options o = { .now = 0 };
    struct rd_pcsc *pc = NULL;
    struct rd_transport t;
    struct chip_package files = CHIP_PACKAGE_INIT;
    char name[512];
    json_t *report = NULL;
    struct err err = ERR_INIT;
    bool valid = false;
    int rc, ncsca = 0;

    if ((rc = cli_parse(&chip_family, "read", &co, argc, argv, 0, 0, NULL)) != CLI_GO)
        return rc;
    rc = EXIT_FAIL;
    if (chip_trust_load(&co, &trust, &ncsca, &mrzb, &o.mrz, &err) != 0) {
        rc = cli_fail("chip read", &err);
        goto out;
    }
    o.can = co.can;
    o.bac_only = co.bac;
    o.extended = co.extended;
    if ((o.mrz == NULL && o.can == NULL) || ncsca == 0) {
        rc = cli_usage_error("chip read", "--mrz (or --mrz-file) or --can, and --csca are required");
        goto out;
    }
    if (o.can && (strlen(o.can) < 6 || strlen(o.can) > 15 ||
                  strspn(o.can, "0123456789") != strlen(o.can))) {
        rc = cli_usage_error("chip read", "--can is the 6-digit card access number");
        goto out;
    }
    if (o.can && o.bac_only) {
        rc = cli_usage_error("chip read", "--bac needs the MRZ, not a CAN");
        goto out;
    }
    if (co.chunk > 256 && !o.extended) {
        rc = cli_usage_error("chip read", "--chunk above 256 needs --extended");
        goto out;
    }
    if (co.out && chip_package_check_dir(co.out, &err) != 0) {
        rc = cli_fail("chip read", &err);
        goto out;
    }
    o.trust = trust;
    o.now = time(NULL);
    o.chunk = (size_t)co.chunk;
    if (rd_pcsc_open(co.reader, (int)co.wait, &pc, name, sizeof name, &err) != 0) {
        rc = cli_fail("chip read", &err);
        goto out;
    }
    rd_transport_pcsc(&t, pc);
    if (rd_inspect(&t, &o, &files, &report, &valid, &err) != 0) {
        rc = cli_fail("chip read", &err);
        goto out;
    }
    if (json_object_set_new(report, "reader", json_string(name)) != 0) {
        err_setk(&err, ERR_INTERNAL, "out of memory");
        rc = cli_fail("chip read", &err);
        goto out;
    }
    if (co.out && chip_package_write(&files, co.out, &err) != 0) {
        rc = cli_fail("chip read", &err);
        goto out;
    }
    rc = cli_chip_report("chip read", report, valid);
out:
    json_decref(report);
    chip_package_release(&files);
    rd_pcsc_close(pc);
    pa_trust_free(trust);
    buf_release(&mrzb);
    return rc;
}

/* ---- quality control: the chip read back as a border would read it */

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[4096];
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, de->d_name) < sizeof p) {
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(p);
            else
                (void)unlink(p);
        }
    }
    closedir(d);
    (void)rmdir(dir);
}

int chip_qc_readback(struct office_env *env, const char *id, json_t **report, bool *valid,
                     struct err *err)
{
    char tmp[] = "/tmp/civreg-qc-XXXXXX", pkgdir[64];
    struct buf csca = BUF_INIT(1 << 20);
    struct pa_trust *trust = NULL;
    struct vchip *c = NULL;
    struct rd_transport t;
    struct chip_package files = CHIP_PACKAGE_INIT;
    json_t *app = NULL;
    const char *mrz;
    int rc = -1;

    *report = NULL;
    *valid = false;
    if (env->pki == NULL)
        return err_set(err, "chip read-back: no document signer, so no chip to read");
    if (mkdtemp(tmp) == NULL)
        return err_set(err, "chip read-back: cannot create a temporary folder");
    /* cannot truncate: TMP is a fixed 21-character template */
    (void)snprintf(pkgdir, sizeof pkgdir, "%s/pkg", tmp);
    if (office_app_show(env, id, &app, err) != 0 ||
        office_app_chip_package(env, id, pkgdir, err) != 0 ||
        office_app_chip_keys(env, id, pkgdir, err) != 0)
        goto out;
    mrz = json_string_value(json_object_get(app, "mrz"));
    if (mrz == NULL)
        mrz = json_string_value(json_object_get(json_object_get(app, "application"), "mrz"));
    if (mrz == NULL) {
        err_set(err, "chip read-back: application %s has no MRZ", id);
        goto out;
    }
    if (pki_export(env->pki, PKI_EXPORT_CSCA, false, time(NULL), &csca, err) != 0 ||
        pa_trust_new(&trust, err) != 0 ||
        pa_trust_add_csca(trust, csca.data, csca.len, "the office's CSCA", err) != 0 ||
        vchip_open(pkgdir, &c, err) != 0)
        goto out;
    rd_transport_vchip(&t, c);
    {
        struct rd_options o = { .mrz = mrz, .trust = trust, .now = time(NULL) };
        if (rd_inspect(&t, &o, &files, report, valid, err) != 0)
            goto out;
    }
    if (json_object_set_new(*report, "reader", json_string("civreg virtual chip (in-process)"))
        != 0) {
        err_setk(err, ERR_INTERNAL, "out of memory");
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        err_prefix(err, "chip read-back");
    chip_package_release(&files);
    vchip_free(c);
    pa_trust_free(trust);
    json_decref(app);
    buf_release(&csca);
    remove_tree(tmp);
    return rc;
}
