/* Integration tests: the real civreg binary builds a PKI and chip packages;
 * independent tools (openssl cms/x509/verify/asn1parse, sha256sum) check them,
 * and `civreg chip verify` refuses each kind of forgery with its reason. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "support/expect.h"
#include "support/cmocka_main.h"
#include "support/support.h"

static char *dir;      /* temp folder */
static char data[1024]; /* data directory */
static char pkg[1024];  /* the package personalized in setup */
static char csca[1024]; /* exported CSCA PEM */
static char pw_admin[1100], pw_op[1100]; /* password files of the admin and the operator */
static char as_admin[2400], as_op[2400]; /* "--user ... --password-file ..." */

static const char specimen_mrz[] = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
                                   "L898902C36UTO7408122F1204159ZE184226B<<<<<10\n";

static void personalize(const char *datadir, const char *out, const char *extra)
{
    struct proc_result r;
    char cmd[4096];
    if (snprintf(cmd, sizeof cmd,
                 "'%s' chip personalize --data '%s' --mrz-lines '%s/mrz.txt' --photo "
                 "'%s/icao/face-120x160.jpg' --dg11 '%s/dg11.json' --dg12 '%s/dg12.json' --out '%s' %s %s",
                 CIVREG_BIN, datadir, dir, CIVREG_TEST_DATA, dir, dir, out, as_op,
                 extra ? extra : "") >= (int)sizeof cmd)
        fail_msg("personalize: command longer than %zu bytes", sizeof cmd);
    sh_run(&r, "%s", cmd);
    if (r.status != 0)
        fail_msg("personalize failed: %s", r.err);
    proc_result_free(&r);
}

static int setup(void **state)
{
    (void)state;
    dir = tmp_dir_paths("chip", (const struct tmp_path[]){ TMP_PATH(data, "data"),
                                                           TMP_PATH(pkg, "pkg"),
                                                           TMP_PATH(csca, "csca.pem"), { 0 } });
    if (dir == NULL)
        return -1;
    pw_file(dir, "admin", "nimda-tundra-ferns-61", pw_admin, sizeof pw_admin);
    pw_file(dir, "officer", "reciffo-tundra-ferns-61", pw_op, sizeof pw_op);
    snprintf(as_admin, sizeof as_admin, "--user admin --password-file '%s'", pw_admin);
    snprintf(as_op, sizeof as_op, "--user officer --password-file '%s'", pw_op);
    civreg_ok(NULL, (const char *[]){ "init", "--data", data, NULL });
    /* the PKI is an admin's; chips are personalized by an issuance operator */
    civreg_user_add(data, "admin", "admin", "nimda-tundra-ferns-61", NULL);
    civreg_user_add(data, "officer", "issuance_operator", "reciffo-tundra-ferns-61", pw_admin);
    civreg_ok(NULL, (const char *[]){ "pki", "init", "--data", data, "--country", "UT", "--user",
                                      "admin", "--password-file", pw_admin, NULL });
    civreg_ok(NULL, (const char *[]){ "pki", "issue-ds", "--data", data, "--user", "admin",
                                      "--password-file", pw_admin, NULL });
    sh_ok("'%s' pki export csca --data '%s' > '%s'", CIVREG_BIN, data, csca);
    sh_ok("'%s' pki export ds --data '%s' > '%s/ds.pem'", CIVREG_BIN, data, dir);
    {
        char p[4096];
        snprintf(p, sizeof p, "%s/mrz.txt", dir);
        file_write(p, specimen_mrz, strlen(specimen_mrz));
        snprintf(p, sizeof p, "%s/dg11.json", dir);
        const char *j11 = "{\"full_name\":\"ERIKSSON<<ANNA MARIA\",\"place_of_birth\":"
                          "\"Zenith<Utopia\",\"date_of_birth\":\"1974-08-12\"}";
        file_write(p, j11, strlen(j11));
        snprintf(p, sizeof p, "%s/dg12.json", dir);
        const char *j12 = "{\"issuing_authority\":\"Passport Office Zenith\","
                          "\"date_of_issue\":\"2012-04-16\"}";
        file_write(p, j12, strlen(j12));
    }
    personalize(data, pkg, "--aa ecdsa-p256");
    return 0;
}

TMP_DIR_TEARDOWN(dir)

/* Run chip verify; return the exit status, the report and stderr. */
static int verify(const char *package, const char *extra, json_t **report, char **err)
{
    struct proc_result r;
    json_error_t je;
    sh_run(&r, "'%s' chip verify '%s' %s", CIVREG_BIN, package, extra);
    *report = json_loads(r.out, 0, &je);
    if (*report == NULL)
        fail_msg("chip verify printed no JSON report: %s / %s", r.out, r.err);
    *err = strdup(r.err);
    int st = r.status;
    proc_result_free(&r);
    return st;
}

/* PACKAGE verifies with EXTRA; the serial of its DS into SERIAL. */
static void ds_serial_of(const char *package, const char *extra, char *serial, size_t size)
{
    json_t *rep;
    char *err;

    assert_int_equal(verify(package, extra, &rep, &err), 0);
    snprintf(serial, size, "%s",
             json_string_value(json_object_get(json_object_get(rep, "sod"), "ds_serial")));
    json_decref(rep);
    free(err);
}

static bool check_is(json_t *report, const char *name, bool valid, const char *msg_part)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(report, "checks"), i, c) {
        if (strcmp(json_string_value(json_object_get(c, "check")), name) == 0)
            return json_is_true(json_object_get(c, "valid")) == valid &&
                   (msg_part == NULL ||
                    strstr(json_string_value(json_object_get(c, "message")), msg_part) != NULL);
    }
    return false;
}

static void test_package_layout(void **state)
{
    struct proc_result r;
    (void)state;
    sh_run(&r, "cd '%s' && ls && stat -c %%a aa-private-key.p8", pkg);
    assert_int_equal(r.status, 0);
    static const char *const want[] = { "011E", "0101", "0102", "010B", "010C", "010F", "011D",
                                        "manifest.json", "aa-private-key.p8" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (strstr(r.out, want[i]) == NULL)
            fail_msg("package lacks %s: %s", want[i], r.out);
    assert_non_null(strstr(r.out, "600"));
    proc_result_free(&r);
    /* DG1 of the specimen MRZ is the Doc 9303-10 worked example, byte for byte */
    sh_run(&r, "xxd -p -c 200 '%s/0101' | tr a-f A-F | cmp - '%s/icao/dg1-td3-specimen.hex'", pkg,
       CIVREG_TEST_DATA);
    if (r.status != 0)
        fail_msg("DG1 differs from the worked example: %s", r.err);
    proc_result_free(&r);
    /* manifest.json names the DS and every file's hash as sha256sum sees it */
    sh_run(&r, "cd '%s' && for f in 0101 0102 011D; do grep -q \"$(sha256sum $f | cut -c1-64)\" "
           "manifest.json || exit 1; done; grep -q ds_serial manifest.json",
       pkg);
    assert_int_equal(r.status, 0);
    proc_result_free(&r);
}

/* --mrz-json: the MRZ engine generates the lines from the record; DG1 of the
 * Doc 9303 specimen record is the worked example, byte for byte. */
static void test_mrz_json(void **state)
{
    struct proc_result r;
    (void)state;
    sh_run(&r, "'%s' chip personalize %s --data '%s' --mrz-json '%s/mrz/td3.json' --photo "
           "'%s/icao/face-120x160.jpg' --out '%s/pkg-json' && xxd -p -c 200 '%s/pkg-json/0101' | "
           "tr a-f A-F | cmp - '%s/icao/dg1-td3-specimen.hex'",
       CIVREG_BIN, as_op, data, CIVREG_TEST_DATA, CIVREG_TEST_DATA, dir, dir, CIVREG_TEST_DATA);
    if (r.status != 0)
        fail_msg("--mrz-json: %s", r.err);
    proc_result_free(&r);
    sh_run(&r, "'%s' chip personalize %s --data '%s' --mrz-json '%s/dg12.json' --photo "
           "'%s/icao/face-120x160.jpg' --out '%s/pkg-json-bad'",
       CIVREG_BIN, as_op, data, dir, CIVREG_TEST_DATA, dir);
    assert_int_equal(r.status, 1);
    proc_result_free(&r);
}

/* Must show: openssl cms verifies EF.SOD (0x77 stripped) against the CSCA,
 * and the hashes in the LDSSecurityObject equal sha256sum of the DG files. */
static void test_openssl_agrees(void **state)
{
    struct proc_result r, a;
    const char *dgs[] = { "0101", "0102", "010B", "010C", "010F" };
    (void)state;
    /* 77 82 LL LL: a 4-byte header for a SOD between 256 and 65535 bytes */
    sh_ok("cd '%s' && test \"$(xxd -p -l 2 '%s/011D')\" = 7782 && tail -c +5 '%s/011D' > sod.der",
          dir, pkg, pkg);
    sh_run(&r, "cd '%s' && openssl cms -verify -inform DER -in sod.der -CAfile '%s' -purpose any "
           "-out lso.der",
       dir, csca);
    if (r.status != 0)
        fail_msg("openssl cms -verify refused EF.SOD: %s", r.err);
    assert_non_null(strstr(r.err, "Verification successful"));
    proc_result_free(&r);
    sh_run(&a, "cd '%s' && openssl asn1parse -inform DER -in lso.der", dir);
    assert_int_equal(a.status, 0);
    assert_non_null(strstr(a.out, ":sha256"));
    for (size_t i = 0; i < 5; i++) {
        char hex[65];
        sh_run(&r, "sha256sum '%s/%s' | cut -c1-64 | tr a-f A-F", pkg, dgs[i]);
        assert_int_equal(r.status, 0);
        snprintf(hex, sizeof hex, "%.64s", r.out);
        if (strstr(a.out, hex) == NULL)
            fail_msg("hash of %s (%s) not in the LDSSecurityObject:\n%s", dgs[i], hex, a.out);
        proc_result_free(&r);
    }
    /* EF.COM is not hashed (Doc 9303-10) */
    sh_run(&r, "sha256sum '%s/011E' | cut -c1-64 | tr a-f A-F", pkg);
    assert_null(strstr(a.out, r.out));
    proc_result_free(&r);
    proc_result_free(&a);
    /* SignedData v3, the LDS security object content type, signed attributes */
    sh_expect_out((const char *[]){ "eContentType: undefined (2.23.136.1.1.1)", "version: 3",
                                     "signingTime", "messageDigest", "contentType",
                                     "ecdsa-with-SHA256", NULL },
                  NULL, "cd '%s' && openssl cms -cmsout -print -inform DER -in sod.der", dir);
}

static void test_certificate_profiles(void **state)
{
    struct proc_result r;
    (void)state;
    sh_expect_out((const char *[]){ "Issuer: C = UT", "Subject: C = UT",
                                     "X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0",
                                     "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign",
                                     "X509v3 Subject Key Identifier",
                                     "X509v3 Authority Key Identifier",
                                     "X509v3 Private Key Usage Period", NULL },
                  NULL, "openssl x509 -in '%s' -noout -text", csca);
    sh_expect_out((const char *[]){ "Issuer: C = UT", "Subject: C = UT",
                                     "X509v3 Key Usage: critical\n                Digital Signature\n",
                                     "X509v3 Private Key Usage Period", "2.23.136.1.1.6.2",
                                     "X509v3 CRL Distribution Points", NULL },
                  (const char *[]){ "CA:TRUE", NULL }, "openssl x509 -in '%s/ds.pem' -noout -text",
                  dir);
    /* the document type list is SEQUENCE { INTEGER 0, SET { PrintableString "P" } } */
    sh_run(&r, "openssl x509 -in '%s/ds.pem' -outform DER | xxd -p | tr -d '\\n'", dir);
    assert_non_null(strstr(r.out, "060767810801010602040a30080201003103130150"));
    proc_result_free(&r);
    sh_run(&r, "openssl verify -CAfile '%s' '%s/ds.pem'", csca, dir);
    if (r.status != 0)
        fail_msg("openssl verify: %s %s", r.out, r.err);
    proc_result_free(&r);
}

static void test_verify_accepts(void **state)
{
    json_t *rep;
    char *err;
    (void)state;
    char extra[8192];
    snprintf(extra, sizeof extra, "--csca '%s' --mrz-file '%s/mrz.txt'", csca, dir);
    if (verify(pkg, extra, &rep, &err) != 0)
        fail_msg("chip verify refused a good package: %s", err);
    assert_true(json_is_true(json_object_get(rep, "valid")));
    assert_true(check_is(rep, "sod_signature", true, NULL));
    assert_true(check_is(rep, "ds_chain", true, NULL));
    assert_true(check_is(rep, "dg15_hash", true, NULL));
    assert_true(check_is(rep, "dg1_mrz", true, NULL));
    json_decref(rep);
    free(err);
    /* a printed MRZ that differs from DG1 */
    snprintf(extra, sizeof extra, "--csca '%s' --mrz '%s'", csca,
             "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
             "L898902C36UTO7408122F1204159ZE184226B<<<<<11");
    assert_int_equal(verify(pkg, extra, &rep, &err), 1);
    assert_true(check_is(rep, "dg1_mrz", false, "differs"));
    json_decref(rep);
    free(err);
}

/* Must show: one flipped bit in any data group is refused, naming it. */
static void test_flipped_bit_in_each_dg(void **state)
{
    static const char *const fids[] = { "0101", "0102", "010B", "010C", "010F" };
    static const char *const names[] = { "dg1_hash", "dg2_hash", "dg11_hash", "dg12_hash",
                                         "dg15_hash" };
    (void)state;
    for (size_t i = 0; i < 5; i++) {
        char copy[4096], extra[8192], want[64];
        json_t *rep;
        char *err;
        snprintf(copy, sizeof copy, "%s/flip-%s", dir, fids[i]);
        /* flip the lowest bit of the byte in the middle of the file */
        sh_ok("cp -r '%s' '%s' && python3 -c \"import sys; p=sys.argv[1]; b=bytearray(open(p,'rb')"
              ".read()); b[len(b)//2]^=1; open(p,'wb').write(b)\" '%s/%s'",
              pkg, copy, copy, fids[i]);
        snprintf(extra, sizeof extra, "--csca '%s'", csca);
        assert_int_equal(verify(copy, extra, &rep, &err), 1);
        assert_true(json_is_false(json_object_get(rep, "valid")));
        assert_true(check_is(rep, names[i], false, "does not match"));
        snprintf(want, sizeof want, "%s: DG", names[i]);
        if (strstr(err, want) == NULL || strstr(err, "altered") == NULL)
            fail_msg("no clear reason for %s: %s", fids[i], err);
        /* only that data group is blamed */
        for (size_t k = 0; k < 5; k++)
            if (k != i)
                assert_true(check_is(rep, names[k], true, NULL));
        json_decref(rep);
        free(err);
    }
    /* a flipped bit in EF.SOD's signature breaks the signature check */
    {
        char copy[4096], extra[8192];
        json_t *rep;
        char *err;
        snprintf(copy, sizeof copy, "%s/flip-sod", dir);
        sh_ok("cp -r '%s' '%s' && python3 -c \"import sys; p=sys.argv[1]; b=bytearray(open(p,'rb')"
              ".read()); b[-3]^=1; open(p,'wb').write(b)\" '%s/011D'",
              pkg, copy, copy);
        snprintf(extra, sizeof extra, "--csca '%s'", csca);
        assert_int_equal(verify(copy, extra, &rep, &err), 1);
        assert_true(check_is(rep, "sod_signature", false, "does not verify"));
        json_decref(rep);
        free(err);
    }
}

/* Must show: a DS not issued by the given CSCA is refused. */
static void test_foreign_csca_refused(void **state)
{
    char other[4096], other_csca[4096], extra[8192];
    json_t *rep;
    char *err;
    (void)state;
    snprintf(other, sizeof other, "%s/other", dir);
    snprintf(other_csca, sizeof other_csca, "%s/other-csca.pem", dir);
    civreg_ok(NULL, (const char *[]){ "init", "--data", other, NULL });
    civreg_user_add(other, "admin", "admin", "nimda-tundra-ferns-61", NULL);
    civreg_ok(NULL, (const char *[]){ "pki", "init", "--data", other, "--country", "UT",
                                      "--algorithm", "ecdsa-brainpoolP256r1", "--user", "admin",
                                      "--password-file", pw_admin, NULL });
    sh_ok("'%s' pki export csca --data '%s' > '%s'", CIVREG_BIN, other, other_csca);
    snprintf(extra, sizeof extra, "--csca '%s'", other_csca);
    assert_int_equal(verify(pkg, extra, &rep, &err), 1);
    assert_true(check_is(rep, "ds_chain", false, "does not chain to any given CSCA"));
    assert_non_null(strstr(err, "ds_chain: Document Signer"));
    /* the signature itself still verifies: the refusal is about trust */
    assert_true(check_is(rep, "sod_signature", true, NULL));
    json_decref(rep);
    free(err);
    /* with both CSCAs given (--csca twice) it is accepted again */
    snprintf(extra, sizeof extra, "--csca '%s' --csca '%s'", other_csca, csca);
    assert_int_equal(verify(pkg, extra, &rep, &err), 0);
    json_decref(rep);
    free(err);
    /* the other CSCA is brainpool: its signer verifies with openssl too */
    sh_ok("openssl x509 -in '%s' -noout -text | grep -q brainpoolP256r1", other_csca);
}

static void test_masterlist_and_rollover(void **state)
{
    struct proc_result r;
    char *out;
    char ml[4096], extra[8192], pkg2[4096], bundle[4096];
    json_t *rep;
    char *err;
    (void)state;
    snprintf(ml, sizeof ml, "%s/ml.der", dir);
    /* the first export issues a master list signer: an admin's action */
    sh_run(&r, "'%s' pki export masterlist --der --data '%s' > '%s'", CIVREG_BIN, data, ml);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "pki.mls.issue is a recorded action: sign in with --user"));
    proc_result_free(&r);
    sh_ok("'%s' pki export masterlist --der --data '%s' %s > '%s'", CIVREG_BIN, data, as_admin, ml);
    /* openssl checks the master list: signed by a signer the CSCA issued */
    sh_run(&r, "openssl cms -verify -inform DER -in '%s' -CAfile '%s' -purpose any -out '%s/ml.content'"
           " && openssl cms -cmsout -print -inform DER -in '%s' | grep -q 'eContentType: undefined "
           "(2.23.136.1.1.2)' && openssl asn1parse -inform DER -in '%s/ml.content' | grep -q SET",
       ml, csca, dir, ml, dir);
    if (r.status != 0)
        fail_msg("master list: %s %s", r.out, r.err);
    proc_result_free(&r);
    /* the master list signer carries EKU 2.23.136.1.1.3 */
    sh_ok("openssl cms -verify -inform DER -in '%s' -noverify -signer '%s/mls.pem' -out /dev/null "
          "2>/dev/null; openssl x509 -in '%s/mls.pem' -noout -text | grep -q 2.23.136.1.1.3",
          ml, dir, dir);
    /* chip verify takes the master list as its CSCA source */
    snprintf(extra, sizeof extra, "--csca '%s'", ml);
    assert_int_equal(verify(pkg, extra, &rep, &err), 0);
    json_decref(rep);
    free(err);

    /* rollover: new CSCA + link certificate; old documents still verify */
    out = civreg_run_ok(NULL, (const char *[]){ "pki", "rollover", "--data", data, "--user",
                                                "admin", "--password-file", pw_admin, NULL });
    assert_non_null(strstr(out, "link_serial"));
    free(out);
    civreg_ok(NULL, (const char *[]){ "pki", "issue-ds", "--data", data, "--user", "admin",
                                      "--password-file", pw_admin, NULL });
    snprintf(bundle, sizeof bundle, "%s/csca-all.pem", dir);
    sh_ok("'%s' pki export csca --data '%s' > '%s' && test $(grep -c 'BEGIN CERTIFICATE' '%s') = 3",
          CIVREG_BIN, data, bundle, bundle);
    /* the link certificate (new key, old issuer) verifies under the old CSCA */
    sh_ok("cd '%s' && csplit -s -z -f part '%s' '/BEGIN CERTIFICATE/' '{*}' && for p in part*; do "
          "if openssl x509 -in $p -noout -issuer -subject | awk -F'CN = ' 'NR==1{i=$2} NR==2{s=$2} "
          "END{exit !(i!=s)}'; then openssl verify -CAfile '%s' $p || exit 1; found=1; fi; done; "
          "test \"$found\" = 1",
          dir, bundle, csca);
    snprintf(pkg2, sizeof pkg2, "%s/pkg2", dir);
    personalize(data, pkg2, "--digest sha384 --lso-v1");
    snprintf(extra, sizeof extra, "--csca '%s'", bundle);
    assert_int_equal(verify(pkg, extra, &rep, &err), 0);
    json_decref(rep);
    free(err);
    assert_int_equal(verify(pkg2, extra, &rep, &err), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(rep, "sod"),
                                                        "lso_version")), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(rep, "sod"),
                                                           "digest_algorithm")), "sha384");
    json_decref(rep);
    free(err);
    /* the new DS is not trusted by the old CSCA alone */
    snprintf(extra, sizeof extra, "--csca '%s'", csca);
    assert_int_equal(verify(pkg2, extra, &rep, &err), 1);
    json_decref(rep);
    free(err);
    /* a fresh master list carries both CSCAs */
    sh_ok("'%s' pki export masterlist --data '%s' %s > '%s/ml2.pem' && head -1 '%s/ml2.pem' | "
          "grep -q 'BEGIN CMS'",
          CIVREG_BIN, data, as_admin, dir, dir);
    snprintf(extra, sizeof extra, "--csca '%s/ml2.pem'", dir);
    assert_int_equal(verify(pkg2, extra, &rep, &err), 0);
    json_decref(rep);
    free(err);
    assert_int_equal(verify(pkg, extra, &rep, &err), 0);
    json_decref(rep);
    free(err);
}

/* Must show: a revoked DS is refused. */
static void test_revoked_ds_refused(void **state)
{
    struct proc_result r;
    char *out;
    char extra[8192], crl[4096], serial[64];
    json_t *rep, *list;
    json_error_t je;
    char *err;
    (void)state;
    /* the DS of pkg2 (issued after rollover) */
    sh_expect(2, NULL, "'%s' chip verify '%s'", CIVREG_BIN, pkg); /* --csca missing: usage error */
    snprintf(extra, sizeof extra, "--csca '%s/csca-all.pem'", dir);
    ds_serial_of(pkg, extra, serial, sizeof serial);
    out = civreg_run_ok(NULL, (const char *[]){ "pki", "list", "--data", data, NULL });
    list = json_loads(out, 0, &je);
    assert_non_null(list);
    assert_true(json_array_size(list) >= 6);
    json_decref(list);
    free(out);
    /* pkg was signed by the first DS, issued by the old (retired) CSCA: its
     * CRL must come from that CSCA. Revoke the newer DS and check pkg2. */
    {
        char pkg2[4096];
        snprintf(pkg2, sizeof pkg2, "%s/pkg2", dir);
        ds_serial_of(pkg2, extra, serial, sizeof serial);
        civreg_ok(NULL, (const char *[]){ "pki", "revoke", serial, "--data", data, "--reason",
                                          "keyCompromise", "--user", "admin", "--password-file",
                                          pw_admin, NULL });
        snprintf(crl, sizeof crl, "%s/crl.pem", dir);
        sh_ok("'%s' pki crl --data '%s' %s > '%s' && openssl crl -in '%s' -noout -text | grep -q "
              "'%s' && openssl crl -in '%s' -noout -text | grep -q 'CRL Number'",
              CIVREG_BIN, data, as_admin, crl, crl, serial, crl);
        snprintf(extra, sizeof extra, "--csca '%s/csca-all.pem' --crl '%s'", dir, crl);
        assert_int_equal(verify(pkg2, extra, &rep, &err), 1);
        assert_true(check_is(rep, "ds_revocation", false, "revoked"));
        assert_non_null(strstr(err, "keyCompromise"));
        json_decref(rep);
        free(err);
        /* the first DS was issued by the CSCA retired at rollover: that CSCA
         * still publishes a CRL, which lists it once revoked */
        {
            char first[64];
            ds_serial_of(pkg, extra, first, sizeof first);
            civreg_ok(NULL, (const char *[]){ "pki", "revoke", first, "--data", data, "--user",
                                              "admin", "--password-file", pw_admin, NULL });
        }
        sh_ok("'%s' pki crl --data '%s' %s > '%s' && test $(grep -c 'BEGIN X509 CRL' '%s') = 2",
              CIVREG_BIN, data, as_admin, crl, crl);
        assert_int_equal(verify(pkg, extra, &rep, &err), 1);
        assert_true(check_is(rep, "ds_revocation", false, "is revoked"));
        json_decref(rep);
        free(err);
        /* a revoked DS signs no more chips */
        sh_run(&r, "'%s' chip personalize %s --data '%s' --mrz-lines '%s/mrz.txt' --photo "
               "'%s/icao/face-120x160.jpg' --out '%s/pkg3' --ds %s",
           CIVREG_BIN, as_op, data, dir, CIVREG_TEST_DATA, dir, serial);
        assert_int_equal(r.status, 1);
        assert_non_null(strstr(r.err, "revoked"));
        proc_result_free(&r);
    }
}

/* The published BSI TR-03105-5 specimen: RSASSA-PSS, no signingTime, its
 * CSCA not published. Signature and DG1 hash hold; the path cannot. */
static void test_bsi_specimen(void **state)
{
    json_t *rep;
    char *err, extra[8192];
    (void)state;
    snprintf(extra, sizeof extra,
             "--csca '%s' --mrz 'P<D<<MUSTERMANN<<ERIKA<<<<<<<<<<<<<<<<<<<<<<C11T002JM4D<<"
             "9608122F2310314<<<<<<<<<<<<<<<4'",
             csca);
    assert_int_equal(verify(CIVREG_TEST_DATA "/icao/bsi-tr03105-5", extra, &rep, &err), 1);
    assert_true(check_is(rep, "sod_structure", true, "5 data group hashes"));
    assert_true(check_is(rep, "sod_signature", true, "rsassaPss"));
    assert_true(check_is(rep, "dg1_hash", true, NULL));
    assert_true(check_is(rep, "dg1_mrz", true, NULL));
    assert_true(check_is(rep, "dg14_hash", true, "not read"));
    assert_true(check_is(rep, "ds_chain", false, "HJP PB CS"));
    json_decref(rep);
    free(err);
}

static void test_usage_and_bad_input(void **state)
{
    struct proc_result r;
    (void)state;
    sh_expect(2, NULL, "'%s' chip personalize --data '%s' --photo x.jpg", CIVREG_BIN, data);
    sh_expect(1, "mrz",
              "'%s' chip personalize %s --data '%s' --mrz-lines '%s/dg11.json' --photo "
              "'%s/mrz.txt' --out '%s/bad'",
              CIVREG_BIN, as_op, data, dir, dir, dir);
    sh_expect(1, "not a JPEG",
              "'%s' chip personalize %s --data '%s' --mrz-lines '%s/mrz.txt' --photo "
              "'%s/mrz.txt' --out '%s/bad'",
              CIVREG_BIN, as_op, data, dir, dir, dir);
    /* an existing non-empty output folder is refused */
    sh_expect(1, "not empty",
              "'%s' chip personalize %s --data '%s' --mrz-lines '%s/mrz.txt' --photo "
              "'%s/icao/face-120x160.jpg' --out '%s'",
              CIVREG_BIN, as_op, data, dir, CIVREG_TEST_DATA, pkg);
    sh_expect(1, NULL, "'%s' chip verify '%s/nowhere' --csca '%s'", CIVREG_BIN, dir, csca);
    sh_expect(1, "neither a certificate nor a CSCA master list",
              "'%s' chip verify '%s' --csca '%s/mrz.txt'", CIVREG_BIN, pkg, dir);
    /* PKI actions need a signed-in admin */
    sh_expect(2, "--user USERNAME is required", "'%s' pki issue-ds --data '%s' </dev/null",
              CIVREG_BIN, data);
    sh_expect(1, "admin", "'%s' pki issue-ds --data '%s' %s", CIVREG_BIN, data, as_op);
    sh_expect(1, "already exists", "'%s' pki init --data '%s' --country UT %s", CIVREG_BIN, data,
              as_admin);
    sh_expect(1, "2-letter", "'%s' pki init --data '%s' --country UTO %s", CIVREG_BIN, data,
              as_admin);
    sh_expect(1, "no certificate with serial 0123", "'%s' pki revoke 0123 --data '%s' %s",
              CIVREG_BIN, data, as_admin);
    /* keys are sealed: the database holds no PKCS#8 key in clear */
    sh_run(&r, "sqlite3 '%s/civreg.db' \"SELECT count(*) FROM pki_certs WHERE hex(key_sealed) LIKE "
           "'43525331%%'\"; sqlite3 '%s/civreg.db' \"SELECT count(*) FROM pki_certs WHERE "
           "key_sealed IS NOT NULL\"",
       data, data);
    assert_int_equal(r.status, 0);
    {
        long a = strtol(r.out, NULL, 10), b = strtol(strchr(r.out, '\n') + 1, NULL, 10);
        assert_true(a > 0);
        assert_int_equal(a, b);
    }
    proc_result_free(&r);
}

/* Every PKI action and every chip signed is a signed event of the
 * provenance log, and the whole log still verifies. */
static void test_provenance(void **state)
{
    struct proc_result r;
    (void)state;
    sh_run(&r, "sqlite3 '%s/civreg.db' \"SELECT type FROM events ORDER BY seq\" 2>/dev/null || "
           "sqlite3 '%s/civreg.db' \".tables\"",
       data, data);
    assert_int_equal(r.status, 0);
    static const char *const want[] = { "pki.csca.create", "pki.ds.issue", "chip.personalize",
                                        "pki.mls.issue", "pki.link.create", "pki.revoke",
                                        "pki.crl.issue" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (strstr(r.out, want[i]) == NULL)
            fail_msg("no %s event in the log:\n%s", want[i], r.out);
    proc_result_free(&r);
    /* signed by who acted: the operator personalized, the admin ran the PKI */
    sh_run(&r, "sqlite3 '%s/civreg.db' \"SELECT DISTINCT actor FROM events WHERE type = "
           "'chip.personalize'\"; sqlite3 '%s/civreg.db' \"SELECT DISTINCT actor FROM events "
           "WHERE type LIKE 'pki.%%'\"",
       data, data);
    assert_string_equal(r.out, "officer\nadmin\n");
    proc_result_free(&r);
    sh_run(&r, "'%s' audit verify --data '%s'", CIVREG_BIN, data);
    if (r.status != 0)
        fail_msg("audit verify: %s %s", r.out, r.err);
    proc_result_free(&r);
}

CMOCKA_MAIN(setup, teardown, test_package_layout, test_mrz_json, test_openssl_agrees,
            test_certificate_profiles, test_verify_accepts, test_flipped_bit_in_each_dg,
            test_foreign_csca_refused, test_masterlist_and_rollover, test_revoked_ds_refused,
            test_bsi_specimen, test_usage_and_bad_input, test_provenance)
