/* bench/chip: chips personalized per second (all data groups built, EF.SOD
 * signed by the Document Signer, no disk writes) and chips verified per
 * second (passive authentication: signature, DS -> CSCA path, validity,
 * every DG hash), for each Document Signer algorithm. The face is a 16 KiB
 * JPEG-shaped block (SOF header + filler), the size of a typical DG2 photo. */
#include "bench_util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"
#include "core/secret.h"
#include "db/datadir.h"
#include "issuance/pki/chip.h"
#include "issuance/icao/passive_auth.h"
#include "issuance/pki/pki.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned char *fake_jpeg(size_t *len)
{
    static const unsigned char head[] = { 0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x02, 0x80,
                                          0x01, 0xE0, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01,
                                          0x03, 0x11, 0x01 };
    size_t n = 16 * 1024;
    unsigned char *p = malloc(n);
    if (p == NULL)
        return NULL;
    memcpy(p, head, sizeof head);
    for (size_t i = sizeof head; i < n - 2; i++)
        p[i] = (unsigned char)(i * 31);
    p[n - 2] = 0xFF;
    p[n - 1] = 0xD9;
    *len = n;
    return p;
}

/* The anchor of issue 16: `openssl cms -sign` making one EF.SOD-shaped
 * SignedData (ECDSA P-256, SHA-256, eContentType LDSSecurityObject, signed
 * attributes, the signer's certificate inside) per run, a process each:
 * documents per second over about SECONDS, 0 when openssl is missing. The
 * key and a self-signed certificate are made here, in DIR. */
static double anchor_openssl_cms_sign(const char *dir, double seconds)
{
    char key[300], crt[300], lso[300], cmd[1400];
    unsigned char content[330];
    double t0, t = 0;
    long n = 0;
    FILE *f;

    snprintf(key, sizeof key, "%s/anchor-key.pem", dir);
    snprintf(crt, sizeof crt, "%s/anchor-cert.pem", dir);
    snprintf(lso, sizeof lso, "%s/anchor-lso.der", dir);
    memset(content, 0x5a, sizeof content); /* the size of a four-group LDSSecurityObject */
    if ((f = fopen(lso, "wb")) == NULL || fwrite(content, 1, sizeof content, f) != sizeof content)
        return f ? (fclose(f), 0.0) : 0.0;
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /C=UT "
             "-days 30 -keyout '%s' -out '%s' >/dev/null 2>&1",
             key, crt);
    if (system(cmd) != 0)
        return 0.0;
    snprintf(cmd, sizeof cmd,
             "openssl cms -sign -binary -nodetach -nosmimecap -md sha256 -outform DER "
             "-econtent_type 2.23.136.1.1.1 -signer '%s' -inkey '%s' -in '%s' -out /dev/null",
             crt, key, lso);
    t0 = now_s();
    for (n = 0; (t = now_s() - t0) < seconds; n++)
        if (system(cmd) != 0)
            return 0.0;
    return (double)n / t;
}

static int run(const char *alg_name, double seconds)
{
    char dir[] = "/tmp/civreg-bench-chip-XXXXXX", data[256], serial[PKI_SERIAL_MAX];
    struct err err = ERR_INIT;
    struct pki *p = NULL;
    struct pa_trust *trust = NULL;
    struct buf csca = BUF_INIT(1 << 20);
    struct chip_package pkg = CHIP_PACKAGE_INIT;
    struct pki_init_opts io = { 0 };
    struct pki_issue_opts is = { 0 };
    size_t jl = 0;
    unsigned char *jpeg = fake_jpeg(&jl);
    json_t *dg11 = json_pack("{s:s, s:s}", "full_name", "ERIKSSON<<ANNA MARIA", "place_of_birth",
                             "Zenith<Utopia");
    json_t *dg12 = json_pack("{s:s, s:s}", "issuing_authority", "Passport Office Zenith",
                             "date_of_issue", "2026-11-26");
    struct chip_input in = { 0 };
    long n;
    double t0, t, c0, c;
    int rc = -1;

    if (mkdtemp(dir) == NULL || jpeg == NULL || dg11 == NULL || dg12 == NULL)
        goto out;
    snprintf(data, sizeof data, "%s/data", dir);
    io.country = "UT";
    io.now = is.now = time(NULL);
    is.kind = PKI_KIND_DS;
    if (datadir_init(data, NULL, &err) != 0 || pki_open(data, true, &p, &err) != 0 ||
        pki_alg_parse(alg_name, &io.alg, &err) != 0 || pki_alg_parse(alg_name, &is.alg, &err) != 0 ||
        pki_init(p, &io, serial, &err) != 0 || pki_issue(p, &is, serial, &err) != 0 ||
        pki_export(p, PKI_EXPORT_CSCA, false, time(NULL), &csca, &err) != 0 ||
        pa_trust_new(&trust, &err) != 0 ||
        pa_trust_add_csca(trust, csca.data, csca.len, "csca", &err) != 0)
        goto out;
    in.mrz = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
             "L898902C36UTO7408122F1204159ZE184226B<<<<<10";
    in.photo = jpeg;
    in.photo_len = jl;
    in.dg11 = dg11;
    in.dg12 = dg12;
    in.now = time(NULL);

    t0 = now_s();
    c0 = bench_cpu();
    for (n = 0; (t = now_s() - t0) < seconds; n++) {
        chip_package_release(&pkg);
        if (chip_personalize(p, &in, &pkg, &err) != 0)
            goto out;
    }
    c = bench_cpu() - c0;
    printf("%-22s personalize: %8.1f chips/s  (%.1f per CPU second; %ld in %.2f s; DG1 DG2 DG11 "
           "DG12 EF.COM EF.SOD)\n",
           alg_name, (double)n / t, c > 0 ? (double)n / c : 0.0, n, t);
    bench_figuref((double)n / t, "chips/s", "chip.personalize %s", alg_name);
    t0 = now_s();
    for (n = 0; (t = now_s() - t0) < seconds; n++) {
        struct pa_chip view;
        json_t *report = NULL;
        bool valid = false;
        chip_package_view(&pkg, &view);
        if (passive_auth(&view, trust, in.mrz, time(NULL), &report, &valid, &err) != 0)
            goto out;
        json_decref(report);
        if (!valid) {
            err_set(&err, "verification failed");
            goto out;
        }
    }
    printf("%-22s verify:      %8.1f chips/s  (%ld in %.2f s; passive authentication)\n",
           alg_name, (double)n / t, n, t);
    bench_figuref((double)n / t, "chips/s", "chip.verify %s", alg_name);
    rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "bench chip %s: %s\n", alg_name, err_msg(&err));
    chip_package_release(&pkg);
    pa_trust_free(trust);
    pki_close(p);
    buf_release(&csca);
    json_decref(dg11);
    json_decref(dg12);
    free(jpeg);
    bench_remove_dir("chip", dir);
    return rc;
}

int main(int argc, char **argv)
{
    static const char *const algs[] = { "ecdsa-p256", "ecdsa-brainpoolP256r1", "rsa-3072" };
    static const char usage[] =
        "usage: chip [SECONDS] [--alg ALGORITHM] [--json FILE]\n"
        "  chips personalized and verified per second for each Document Signer algorithm\n"
        "  (or only ALGORITHM: ecdsa-p256, ecdsa-brainpoolP256r1, rsa-3072), SECONDS per\n"
        "  figure (default 2), beside the raw ECDSA P-256 sign rate\n";
    double seconds = 2.0;
    const char *only = NULL;
    struct err err = ERR_INIT;
    int rc = 0, o;

    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--alg") == 0) {
            only = argv[i + 1];
            memmove(&argv[i], &argv[i + 2], (size_t)(argc - i - 1) * sizeof *argv);
            argc -= 2;
            break;
        }
    o = bench_args(&argc, argv, usage, 0, 1);

    if (o != 0)
        return o > 0 ? 0 : 2;
    if (argc == 2) {
        char *end;
        seconds = strtod(argv[1], &end);
        if (*end || !(seconds > 0 && seconds <= 60)) {
            fputs(usage, stderr);
            return 2;
        }
    }

    if (seconds <= 0 || seconds > 60)
        seconds = 2.0;
    {
        bool known = only == NULL;
        for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
            known |= only != NULL && strcmp(only, algs[i]) == 0;
        if (!known) {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (secret_init(&err) != 0) {
        fprintf(stderr, "bench chip: %s\n", err_msg(&err));
        return 1;
    }
    printf("civreg bench/chip: %.1f s per figure, one thread\n", seconds);
    {
        double e = bench_anchor_ecdsa_p256_sign(seconds < 1 ? seconds : 1);
        printf("anchor: ECDSA P-256 sign (OpenSSL, SHA-256) %.0f/s, one core\n", e);
        bench_figure("anchor.ecdsa_p256_sign", e, "ops/s");
    }
    {
        char dir[] = "/tmp/civreg-bench-chip-cms-XXXXXX";
        double c = mkdtemp(dir) ? anchor_openssl_cms_sign(dir, seconds < 1 ? seconds : 1) : 0;
        printf("anchor: `openssl cms -sign` of one EF.SOD-shaped SignedData (ECDSA P-256), a "
               "process each: %.0f documents/s\n", c);
        bench_figure("anchor.openssl_cms_sign", c, "documents/s");
        bench_remove_dir("chip", dir);
    }
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (only == NULL || strcmp(only, algs[i]) == 0)
            rc |= run(algs[i], seconds) != 0;
    return rc | (bench_write_json("chip") != 0);
}
