/* The JSON nesting attack against every civreg command that reads JSON:
 * stdin documents (record draft/verify/correct, death register --json,
 * mrz generate, document datapage), files (record import --jsonl, chip
 * personalize --mrz-json, audit verify-bundle, the witness keys/tree-head.json of audit verify), option
 * values (application enrol --contact, seal verify --payload) and seal text
 * on stdin. Each must exit non-zero (not killed by a signal) with a message
 * naming the nesting bound, before anything is parsed recursively. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/deep_json.h"
#include "support/cmocka_main.h"
#include "support/support.h"

#define DEPTH 5000

static char *root;
static char data[4096], pw[4200], deep_path[4200], photo[4200], jsonl[4200], csca[4200],
    witness[4200], chipout[4200];
static char *deep;      /* {"a":[[[...]]]} DEPTH levels */
static char *deep_seal; /* the same, 2,000 levels: fits a seal's 8 KB */

static int setup(void **state)
{
    char line[DEPTH * 2 + 64];
    (void)state;

    deep = deep_json("a", DEPTH, NULL);
    deep_seal = deep_json("a", 2000, NULL);
    if ((root = tmp_data_dir("cli-jsondepth", data, sizeof data, NULL)) == NULL)
        return -1;
    snprintf(pw, sizeof pw, "%s/admin.pw", root);
    snprintf(deep_path, sizeof deep_path, "%s/deep.json", root);
    snprintf(photo, sizeof photo, "%s/face.jpg", root);
    snprintf(jsonl, sizeof jsonl, "%s/import.jsonl", root);
    snprintf(csca, sizeof csca, "%s/csca.pem", root);
    snprintf(chipout, sizeof chipout, "%s/chip-out", root);
    snprintf(witness, sizeof witness, "%s/keys/tree-head.json", data);
    if (file_write(pw, "nimda-tundra-ferns-61\n", strlen("nimda-tundra-ferns-61\n")) != 0 ||
        file_write(deep_path, deep, strlen(deep)) != 0 ||
        file_write(photo, "\xff\xd8\xff\xe0 not really a photo", 24) != 0 ||
        file_write(csca, "-----BEGIN CERTIFICATE-----\n", 28) != 0)
        return -1;
    /* An import whose second line is the attack. */
    snprintf(line, sizeof line, "{}\n%s\n", deep);
    if (file_write(jsonl, line, strlen(line)) != 0)
        return -1;
    civreg_user_add(data, "admin", "admin", "nimda-tundra-ferns-61", NULL);
    /* The data roles belong to another account (separation of duties); it
     * signs with the same password file. */
    civreg_user_add(data, "worker",
                    "clerk,registrar,enrolment_officer,issuance_operator,auditor",
                    "nimda-tundra-ferns-61", pw);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tmp_free(&root);
    free(deep);
    free(deep_seal);
    return 0;
}

/* Run ARGS with IN on stdin: a clean failure naming the bound. */
static void refused(const char *in, const char *const args[])
{
    struct proc_result r;
    char what[256];
    size_t o = 0;

    for (size_t i = 0; args[i] && i < 3; i++)
        o += (size_t)snprintf(what + o, sizeof what - o, "%s%s", i ? " " : "", args[i]);
    assert_int_equal(civreg_run(in, &r, args), 0);
    if (r.status == 0 || r.status >= 128)
        fail_msg("civreg %s: want a clean failure, got status %d: %s", what, r.status, r.err);
    /* record import reports each refused line on stdout */
    const char *msg = strstr(r.err, "nested deeper than 64 levels") ? r.err : r.out;
    if (strstr(msg, "nested deeper than 64 levels") == NULL)
        fail_msg("civreg %s: the message does not name the nesting bound: %s%s", what, r.out,
                 r.err);
    msg = strstr(msg, "nested deeper");
    print_message("civreg %-28s exit %d: ...%.*s\n", what, r.status, (int)strcspn(msg, "\n"),
                  msg);
    proc_result_free(&r);
}

#define AS_ADMIN "--data", data, "--user", "worker", "--password-file", pw

static void test_stdin_documents(void **state)
{
    (void)state;
    refused(deep, (const char *[]){ "record", "draft", AS_ADMIN, NULL });
    refused(deep, (const char *[]){ "record", "verify", "DEMO/1987/000001", AS_ADMIN, NULL });
    refused(deep, (const char *[]){ "record", "correct", "DEMO/1987/000001", "--reason", "typo",
                                    AS_ADMIN, NULL });
    refused(deep, (const char *[]){ "death", "register", "123456789", "--json", AS_ADMIN, NULL });
    refused(deep, (const char *[]){ "mrz", "generate", NULL });
    refused(deep, (const char *[]){ "document", "datapage", "--photo", photo, "--out",
                                    "/dev/null", NULL });
    refused(deep_seal, (const char *[]){ "seal", "verify", "--stdin", "--csca", csca, NULL });
}

static void test_files_and_options(void **state)
{
    (void)state;
    refused(NULL, (const char *[]){ "record", "import", "--jsonl", jsonl, AS_ADMIN, NULL });
    refused(NULL, (const char *[]){ "application", "enrol", "--uin", "123456789", "--photo", photo,
                                    "--contact", deep, AS_ADMIN, NULL });
    refused(NULL, (const char *[]){ "seal", "verify", "--payload", deep_seal, "--csca", csca, NULL });
    refused(NULL, (const char *[]){ "chip", "personalize", "--mrz-json", deep_path, "--photo",
                                    photo, "--out", chipout, AS_ADMIN, NULL });
    refused(NULL, (const char *[]){ "audit", "verify-bundle", deep_path, "--office-key",
                                    "0000000000000000000000000000000000000000000000000000000000000000",
                                    NULL });
}

/* The witness file audit verify compares the log with. */
static void test_witness_file(void **state)
{
    struct proc_result r;
    (void)state;

    assert_int_equal(file_write(witness, deep, strlen(deep)), 0);
    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "audit", "verify", "--data", data,
                                                            NULL }),
                     0);
    if (r.status != 1)
        fail_msg("audit verify: want exit 1, got %d: %s", r.status, r.err);
    if (strstr(r.out, "nested deeper than 64 levels") == NULL &&
        strstr(r.err, "nested deeper than 64 levels") == NULL)
        fail_msg("audit verify: the problem does not name the nesting bound: %s%s", r.out, r.err);
    proc_result_free(&r);
}

CMOCKA_MAIN(setup, teardown, test_stdin_documents, test_files_and_options, test_witness_file)
