/* Integration: `civreg record import` killed (kill -9) at random moments,
 * three times, then run again on the same file to the end, ends with
 * exactly one draft record per valid line: every line is keyed by the
 * file's SHA-256 and its line number (signed in the record.draft event and
 * unique in record_import_lines), and a line already in adds nothing.
 * `audit verify` and `db check` must be clean afterwards, a further run and
 * a --dry-run must add nothing. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "support/cmocka_main.h"
#include "support/support.h"

#define LINES 3000 /* valid records in the file */
#define REFUSED ((LINES + 249) / 500) /* lines that are no record: after i = 250, 750, ... */
#define KILLS 3

static char *root;
static char data[4096], jsonl[4096], pw_admin[4096], pw_clerk[4096];

/* A made-up name for number K, so that the records are different children. */
static void name_of(unsigned k, char *out, size_t size)
{
    static const char *const syl[] = { "ka", "mo", "te", "ri", "su", "na", "lo", "bi", "du", "fe" };
    size_t len = 0;
    for (int i = 0; i < 4 && len + 3 < size; i++, k /= 10) {
        memcpy(out + len, syl[k % 10], 2);
        len += 2;
    }
    out[len] = '\0';
    out[0] = (char)(out[0] - 32);
}

static int setup(void **state)
{
    char *ex, *p, given[16];
    FILE *f;
    (void)state;

    if ((root = tmp_data_dir("record-import-resume", data, sizeof data, NULL)) == NULL)
        return -1;
    snprintf(jsonl, sizeof jsonl, "%s/register.jsonl", root);
    civreg_staff_add(data, root, "clerk,auditor", NULL, pw_admin, pw_clerk, NULL, NULL);

    /* The example record on one line, with a different given name per line,
     * and among them lines that are no record at all and blank lines. */
    ex = civreg_run_ok(NULL, (const char *[]){ "record", "draft", "--example", NULL });
    for (char *q = p = ex; *q; q++)
        if (*q != '\n')
            *p++ = *q;
    *p = '\0';
    p = strstr(ex, "\"given_names\": \"Amélie Wanjiru\"");
    assert_non_null(p);
    f = fopen(jsonl, "w");
    assert_non_null(f);
    for (unsigned i = 0; i < LINES; i++) {
        name_of(i, given, sizeof given);
        fprintf(f, "%.*s\"given_names\": \"%s\"%s\n", (int)(p - ex), ex, given,
                p + strlen("\"given_names\": \"Amélie Wanjiru\""));
        if (i % 500 == 250)
            fputs("{\"not\": \"a record\"}\n\n", f);
    }
    assert_int_equal(fclose(f), 0);
    free(ex);
    return 0;
}

TMP_DIR_TEARDOWN(root)

/* Start the import with its output discarded. */
static pid_t start_import(void)
{
    return civreg_start_quiet((const char *[]){ "record", "import", "--jsonl", jsonl, "--batch",
                                                "40", "--data", data, "--user", "clerk1",
                                                "--password-file", pw_clerk, NULL });
}

static void test_killed_import_resumes(void **state)
{
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    long before = 0, now;
    int killed_midway = 0;
    (void)state;

    print_message("seed %u\n", seed);
    srand(seed);
    for (int k = 0; k < KILLS; k++) {
        /* signing in takes a while (Argon2id) and longer on a busy machine:
         * wait until this run has committed its first batch, then kill it a
         * random 0 .. 0.3 s later, somewhere in the middle of the import (an
         * idle machine drafts a few thousand lines a second) */
        long delay_ms = rand() % 300;
        int st = 0;
        pid_t pid = start_import();
        struct timespec poll = { 0, 50 * 1000000L };
        struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
        for (int t = 0;
             t < 1200 && before < LINES &&
             data_sql_long(data, "SELECT count(*) FROM birth_records") == before;
             t++)
            nanosleep(&poll, NULL);
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        now = data_sql_long(data, "SELECT count(*) FROM birth_records");
        print_message("kill %d after %ld ms: %ld records\n", k + 1, delay_ms, now);
        if (WIFSIGNALED(st) && now > before && now < LINES)
            killed_midway++;
        assert_true(now >= before);
        assert_true(now <= LINES);
        before = now;
    }
    assert_true(killed_midway > 0);

    /* the same command again, to the end: exit 1 for the refused lines only */
    {
        struct proc_result r;
        assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "record", "import", "--jsonl", jsonl,
                                                                "--batch", "40", "--data", data,
                                                                "--user", "clerk1",
                                                                "--password-file", pw_clerk,
                                                                NULL }),
                         0);
        if (r.status != 1)
            fail_msg("final import: exit %d: %s", r.status, r.err);
        {
            char want[96];
            snprintf(want, sizeof want, "%ld added, %ld already imported, %d refused",
                     LINES - before, before, REFUSED);
            if (strstr(r.err, want) == NULL)
                fail_msg("final import: expected '%s': %s", want, r.err);
        }
        proc_result_free(&r);
    }
    assert_int_equal(data_sql_long(data, "SELECT count(*) FROM birth_records"), LINES);
    assert_int_equal(data_sql_long(data, "SELECT count(*) FROM record_import_lines"), LINES);
    assert_int_equal(data_sql_long(data, "SELECT count(DISTINCT line) FROM record_import_lines"),
                     LINES);
    assert_int_equal(data_sql_long(data, "SELECT count(*) FROM events WHERE type = 'record.draft'"),
                     LINES);
    free(civreg_run_ok(NULL, (const char *[]){ "db", "check", "--data", data, NULL }));
    {
        char *v = civreg_run_ok(NULL, (const char *[]){ "audit", "verify", "--data", data, NULL });
        assert_non_null(strstr(v, "ok:"));
        free(v);
    }

    /* once more, and a dry run: nothing to add */
    {
        struct proc_result r;
        const char *args[] = { "record", "import", "--jsonl", jsonl, "--data", data, "--user",
                               "clerk1", "--password-file", pw_clerk, "--dry-run", NULL };
        char want[128];
        assert_int_equal(civreg_run(NULL, &r, args), 0);
        assert_int_equal(r.status, 1);
        snprintf(want, sizeof want, "dry run, would be 0 added, %d already imported, %d refused",
                 LINES, REFUSED);
        if (strstr(r.err, want) == NULL)
            fail_msg("dry run: expected '%s': %s", want, r.err);
        assert_null(strstr(r.out, "would add"));
        assert_non_null(strstr(r.out, "already 1 "));
        assert_non_null(strstr(r.out, "refused 252: "));
        proc_result_free(&r);
        args[10] = NULL;
        assert_int_equal(civreg_run(NULL, &r, args), 0);
        snprintf(want, sizeof want, "0 added, %d already imported, %d refused", LINES, REFUSED);
        if (strstr(r.err, want) == NULL)
            fail_msg("second run: expected '%s': %s", want, r.err);
        proc_result_free(&r);
    }
    assert_int_equal(data_sql_long(data, "SELECT count(*) FROM birth_records"), LINES);
}

/* The signed event names the line it came from. */
static void test_event_carries_source(void **state)
{
    (void)state;
    assert_int_equal(
        data_sql_long(data, "SELECT count(*) FROM events e JOIN record_import_lines l"
                            " ON l.event_seq = e.seq"
                            " WHERE json_extract(e.body, '$.data.source.line') = l.line"
                            " AND json_extract(e.body, '$.data.source.file_sha256') = l.file_hash"),
        LINES);
}

/* The next batch is read while one is imported: every batch read before a
 * line too long is imported and reported, the batch holding that line and
 * whatever follows it are not, and the import fails naming the line. */
static void test_read_ahead_stops_at_long_line(void **state)
{
    char path[4200], rec[8192];
    const char *args[] = { "record", "import", "--jsonl", path,     "--batch",       "3",
                           "--data", data,     "--user",  "clerk1", "--password-file", pw_clerk,
                           NULL };
    struct proc_result r;
    long before = data_sql_long(data, "SELECT count(*) FROM record_import_lines");
    FILE *in = fopen(jsonl, "r"), *f;
    (void)state;

    assert_non_null(in);
    assert_non_null(fgets(rec, sizeof rec, in)); /* a valid record, ending in a newline */
    fclose(in);
    snprintf(path, sizeof path, "%s/long-line.jsonl", root);
    f = fopen(path, "w");
    assert_non_null(f);
    for (int line = 1; line <= 12; line++) {
        if (line == 8)
            fputs("\n", f);
        else if (line == 9)
            fputs("not JSON at all\n", f);
        else if (line == 11) {
            for (int k = 0; k < 300 * 1024; k++)
                fputc('x', f);
            fputc('\n', f);
        } else
            fputs(rec, f);
    }
    assert_int_equal(fclose(f), 0);

    assert_int_equal(civreg_run(NULL, &r, args), 0);
    assert_int_not_equal(r.status, 0);
    if (strstr(r.err, "long-line.jsonl:11: line longer than") == NULL)
        fail_msg("expected the line too long named: %s", r.err);
    for (int line = 1; line <= 12; line++) {
        char want[32];
        bool in_out;
        snprintf(want, sizeof want, "committed %d ", line);
        in_out = strstr(r.out, want) != NULL;
        if (in_out != (line <= 7 || line == 10))
            fail_msg("line %d %s: %s", line, in_out ? "committed" : "not committed", r.out);
    }
    assert_non_null(strstr(r.out, "refused 9: not JSON"));
    assert_null(strstr(r.out, " 12"));
    proc_result_free(&r);
    assert_int_equal(data_sql_long(data, "SELECT count(*) FROM record_import_lines"), before + 8);
}

CMOCKA_MAIN(setup, teardown, test_killed_import_resumes, test_event_carries_source,
            test_read_ahead_stops_at_long_line)
