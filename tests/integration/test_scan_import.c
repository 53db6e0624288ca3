/* Integration tests: `civreg scan import` with the real registry: separator
 * volumes and page numbers, corrupt files reported per file with nothing
 * half-stored, re-import adding nothing, a kill -9 in the middle of 500
 * pages then the same import again, and `audit verify` clean after each. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "scanner/pagegen.h" /* tests/scanner/ */
#include "support/support.h"

static char *root;
static char data[4096], pw_admin[4096], pw_clerk[4096];

static int setup(void **state)
{
    (void)state;
    root = tmp_data_dir("scan-import", data, sizeof data,
                        (const char *[]){ "--office", "HQ", "--office-name", "Head office", NULL });
    if (root == NULL)
        return -1;
    civreg_staff_add(data, root, "clerk", NULL, pw_admin, pw_clerk, NULL, NULL);
    return 0;
}

TMP_DIR_TEARDOWN(root)

static sqlite3 *db_open_ro(void)
{
    char path[4200];
    sqlite3 *h = NULL;
    snprintf(path, sizeof path, "%s/civreg.db", data);
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(h, 30000);
    return h;
}

static long long query_int(const char *sql, const char *arg)
{
    sqlite3 *h = db_open_ro();
    sqlite3_stmt *st = NULL;
    long long v;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* Page numbers of every volume run 1..n without gaps or repeats. */
static void check_volume_numbering(void)
{
    sqlite3 *h = db_open_ro();
    sqlite3_stmt *st = NULL;
    char vol[128] = "";
    long long expect = 0;
    assert_int_equal(sqlite3_prepare_v2(h,
        "SELECT volume_id, page_number FROM scan_pages WHERE volume_id IS NOT NULL AND "
        "is_separator = 0 ORDER BY volume_id, page_number", -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (strcmp(v, vol) != 0) {
            snprintf(vol, sizeof vol, "%s", v);
            expect = 0;
        }
        if (sqlite3_column_int64(st, 1) != ++expect)
            fail_msg("volume %s: page number %lld where %lld was due", v,
                     sqlite3_column_int64(st, 1), expect);
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void audit_clean(void)
{
    free(civreg_run_ok(NULL, (const char *[]){ "audit", "verify", "--data", data, NULL }));
    free(civreg_run_ok(NULL, (const char *[]){ "db", "check", "--data", data, NULL }));
}

/* A small page: a barcode and some text. */
static void small_page(const char *path, enum pg_symbology s, const char *payload, uint64_t seed)
{
    struct scan_image img = SCAN_IMAGE_INIT;
    assert_int_equal(pg_page(&img, 600, 300, 245), 0);
    img.dpi_x = img.dpi_y = 300;
    pg_text(&img, 20, 170, 560, 110, 10, seed);
    if (s != PG_NONE)
        assert_true(pg_barcode(&img, s, 40, 30, s == PG_QR ? 3 : 2, 80, payload) > 0);
    assert_int_equal(pg_write_png(path, &img), 0);
    scan_image_release(&img);
}

static json_t *import_json(const char *folder, int want_status)
{
    struct proc_result r;
    json_error_t je;
    json_t *j;
    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "scan", "import", "--data", data,
                                "--user", "clerk1", "--password-file", pw_clerk, "--json", folder,
                                NULL }), 0);
    if (r.status != want_status)
        fail_msg("scan import: exit %d (want %d): %s", r.status, want_status, r.err);
    j = json_loads(r.out, 0, &je);
    if (j == NULL)
        fail_msg("scan import: not JSON: %s", r.out);
    proc_result_free(&r);
    return j;
}

static long long jint(const json_t *j, const char *k)
{
    return (long long)json_integer_value(json_object_get(j, k));
}

static void test_import_volumes_and_bad_files(void **state)
{
    struct proc_result r;
    json_t *sum;
    (void)state;
    mkdir(tmp_path(root, "batch1"), 0700);
    /* The real separator sheet, printed by civreg and scanned at 150 dpi. */
    free(civreg_run_ok(NULL, (const char *[]){ "scan", "separator", "--office", "HQ", "--year", "1987",
                                        "--volume", "12", "--out", tmp_path(root, "sep.pdf"), NULL }));
    {
        char prefix[4200];
        char *argv[] = { "/usr/bin/pdftoppm", "-r", "150", "-gray", "-png", "-singlefile",
                         (char *)tmp_path(root, "sep.pdf"), prefix, NULL };
        snprintf(prefix, sizeof prefix, "%s", tmp_path(root, "batch1/page-01"));
        assert_int_equal(proc_run(argv, NULL, 0, 60, &r), 0);
        assert_int_equal(r.status, 0);
        proc_result_free(&r);
    }
    /* Natural order: page-2 comes before page-10. */
    small_page(tmp_path(root, "batch1/page-2.png"), PG_QR, "entry 1-3", 1);
    small_page(tmp_path(root, "batch1/page-10.png"), PG_NONE, "", 2);
    small_page(tmp_path(root, "batch1/page-3.png"), PG_EAN13, "4006381333931", 3);
    /* Corrupt inputs among them. */
    {
        size_t len;
        char *png = file_read(tmp_path(root, "batch1/page-2.png"), &len);
        assert_non_null(png);
        assert_int_equal(file_write(tmp_path(root, "batch1/page-4.png"), png, len / 2), 0);
        free(png);
        assert_int_equal(file_write(tmp_path(root, "batch1/page-5.png"), "", 0), 0);
        assert_int_equal(file_write(tmp_path(root, "batch1/page-6.png"), "not a scan\n", 11), 0);
        assert_int_equal(file_write(tmp_path(root, "batch1/page-7.pgm"), "P5\n100000 100000\n255\n", 21), 0);
    }
    {
        struct scan_image img = SCAN_IMAGE_INIT;
        size_t len;
        char *jpg;
        assert_int_equal(pg_page(&img, 300, 200, 250), 0);
        assert_int_equal(pg_write_jpeg(tmp_path(root, "batch1/page-8.jpg"), &img, 80, 0), 0);
        assert_int_equal(pg_write_tiff_g4(tmp_path(root, "batch1/page-9.tif"), &img, 1), 0);
        jpg = file_read(tmp_path(root, "batch1/page-8.jpg"), &len);
        assert_int_equal(file_write(tmp_path(root, "batch1/page-8.jpg"), jpg, len * 2 / 3), 0);
        free(jpg);
        jpg = file_read(tmp_path(root, "batch1/page-9.tif"), &len);
        assert_int_equal(file_write(tmp_path(root, "batch1/page-9.tif"), jpg, len / 2), 0);
        free(jpg);
        scan_image_release(&img);
    }

    assert_int_equal(civreg_run(NULL, &r, (const char *[]){ "scan", "import", "--data", data,
                                "--user", "clerk1", "--password-file", pw_clerk, tmp_path(root, "batch1"),
                                NULL }), 0);
    assert_int_equal(r.status, 1);
    {
        static const char *const bad[][2] = {
            { "page-4.png", "png: truncated" }, { "page-5.png", "empty file" },
            { "page-6.png", "not an image" }, { "page-7.pgm", "refused before decoding" },
            { "page-8.jpg", "jpeg: " }, { "page-9.tif", "tiff: " },
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            const char *l = strstr(r.err, bad[i][0]), *nl;
            while (l && l > r.err && l[-1] != '\n')
                l--;
            nl = l ? strchr(l, '\n') : NULL;
            if (l == NULL || nl == NULL || strstr(l, bad[i][1]) == NULL || strstr(l, bad[i][1]) > nl)
                fail_msg("no error '%s' for %s in:\n%s", bad[i][1], bad[i][0], r.err);
        }
    }
    assert_non_null(strstr(r.out, "4 imported (4 pages, 1 separators"));
    assert_non_null(strstr(r.out, "6 failed"));
    proc_result_free(&r);

    /* Nothing of the bad files is stored; the good ones are in order. */
    assert_int_equal(query_int("SELECT COUNT(*) FROM scan_pages", NULL), 4);
    assert_int_equal(query_int("SELECT COUNT(*) FROM scan_pages WHERE file_name LIKE 'page-4%' OR "
                               "file_name LIKE 'page-5%' OR file_name LIKE 'page-6%' OR "
                               "file_name LIKE 'page-7%' OR file_name LIKE 'page-8%' OR "
                               "file_name LIKE 'page-9%'", NULL), 0);
    assert_int_equal(query_int("SELECT is_separator FROM scan_pages WHERE file_name = ?", "page-01.png"), 1);
    assert_int_equal(query_int("SELECT page_number FROM scan_pages WHERE file_name = ?", "page-2.png"), 1);
    assert_int_equal(query_int("SELECT page_number FROM scan_pages WHERE file_name = ?", "page-3.png"), 2);
    assert_int_equal(query_int("SELECT page_number FROM scan_pages WHERE file_name = ?", "page-10.png"), 3);
    assert_int_equal(query_int("SELECT COUNT(*) FROM scan_pages WHERE volume_id = ?", "HQ|1987|12"), 4);
    /* Metadata: barcodes and quality in the signed description. */
    assert_int_equal(query_int("SELECT COUNT(*) FROM scan_pages WHERE file_name = 'page-2.png' AND "
                               "meta LIKE '%\"type\":\"QR-Code\"%' AND meta LIKE '%\"data\":\"entry 1-3\"%' "
                               "AND meta LIKE '%\"dpi\":300%' AND meta LIKE '%\"format\":\"png\"%'", NULL), 1);
    assert_int_equal(query_int("SELECT COUNT(*) FROM events WHERE type = 'scan.import'", NULL), 4);
    /* Every page's preview is an evidence blob. */
    assert_int_equal(query_int("SELECT COUNT(*) FROM scan_pages p WHERE NOT EXISTS (SELECT 1 FROM "
                               "blobs b WHERE b.hash = p.preview_hash) OR NOT EXISTS (SELECT 1 FROM "
                               "blobs b WHERE b.hash = p.file_hash)", NULL), 0);
    audit_clean();

    /* Again: nothing added. */
    sum = import_json(tmp_path(root, "batch1"), 1);
    assert_int_equal(jint(sum, "pages_added"), 0);
    assert_int_equal(jint(sum, "files_skipped"), 4);
    assert_int_equal(jint(sum, "pages_skipped"), 4);
    assert_int_equal(jint(sum, "files_failed"), 6);
    assert_int_equal(json_array_size(json_object_get(sum, "errors")), 6);
    json_decref(sum);
    assert_int_equal(query_int("SELECT COUNT(*) FROM scan_pages", NULL), 4);
    assert_int_equal(query_int("SELECT COUNT(*) FROM events WHERE type = 'scan.import'", NULL), 4);
    audit_clean();

    /* The volume reads back in page order, and a record keyed from a page
     * refers to it: register reference + entry number, file as evidence. */
    {
        json_error_t je;
        char *out = civreg_run_ok(NULL, (const char *[]){ "scan", "volumes", "--data", data, "--json", NULL });
        json_t *vols = json_loads(out, 0, &je), *pages, *page, *rec, *reg;
        char *rec_text, *id, *shown;
        free(out);
        assert_non_null(vols);
        assert_int_equal(json_array_size(vols), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(vols, 0), "id")), "HQ|1987|12");
        assert_int_equal(jint(json_array_get(vols, 0), "pages"), 3);
        json_decref(vols);
        out = civreg_run_ok(NULL, (const char *[]){ "scan", "pages", "--data", data, "--volume", "HQ|1987|12",
                                             "--json", NULL });
        pages = json_loads(out, 0, &je);
        free(out);
        assert_int_equal(json_array_size(pages), 4);
        assert_true(json_is_true(json_object_get(json_array_get(pages, 0), "separator")));
        assert_string_equal(json_string_value(json_object_get(json_array_get(pages, 1), "file_name")), "page-2.png");
        assert_string_equal(json_string_value(json_object_get(json_array_get(pages, 2), "file_name")), "page-3.png");
        assert_string_equal(json_string_value(json_object_get(json_array_get(pages, 3), "file_name")), "page-10.png");
        out = civreg_run_ok(NULL, (const char *[]){ "scan", "page", "--data", data,
                                             json_string_value(json_object_get(json_array_get(pages, 2), "id")),
                                             NULL });
        page = json_loads(out, 0, &je);
        free(out);
        assert_non_null(page);
        reg = json_object_get(page, "register");
        assert_string_equal(json_string_value(json_object_get(reg, "volume")), "12");
        assert_int_equal(jint(reg, "page"), 2);
        out = civreg_run_ok(NULL, (const char *[]){ "record", "draft", "--example", NULL });
        rec = json_loads(out, 0, &je);
        free(out);
        assert_non_null(rec);
        reg = json_deep_copy(reg);
        json_object_set_new(reg, "entry", json_integer(1));
        json_object_set_new(rec, "register", reg);
        json_object_set(rec, "evidence", json_object_get(page, "evidence"));
        rec_text = json_dumps(rec, JSON_COMPACT);
        id = civreg_run_ok(rec_text, (const char *[]){ "record", "draft", "--data", data, "--user", "clerk1",
                                                "--password-file", pw_clerk, NULL });
        id[strcspn(id, "\n")] = 0;
        shown = civreg_run_ok(NULL, (const char *[]){ "record", "show", id, "--data", data, "--user",
                                               "clerk1", "--password-file", pw_clerk, NULL });
        assert_non_null(strstr(shown, json_string_value(json_object_get(page, "file_hash"))));
        free(shown);
        free(id);
        free(rec_text);
        json_decref(rec);
        json_decref(page);
        json_decref(pages);
    }
    audit_clean();

    /* A user without the clerk role may not import. */
    free(civreg_run_ok("rotidua-tundra-ferns-61\n",
                (const char *[]){ "user", "add", "--data", data, "--username", "aud", "--role",
                                  "auditor", "--user", "admin", "--password-file", pw_admin, NULL }));
    assert_int_equal(civreg_run("rotidua-tundra-ferns-61\n", &r, (const char *[]){ "scan", "import",
                                "--data", data, "--user", "aud", tmp_path(root, "batch1"), NULL }), 0);
    assert_int_equal(r.status, 1);
    if (strstr(r.err, "clerk") == NULL)
        fail_msg("auditor import: %s", r.err);
    proc_result_free(&r);
}

#define KILL_PAGES 500

static void test_kill_and_resume(void **state)
{
    pid_t pid;
    int fd, st;
    json_t *sum;
    long long before, events0 = query_int("SELECT COUNT(*) FROM events WHERE type = 'scan.import'", NULL);
    (void)state;
    mkdir(tmp_path(root, "batch2"), 0700);
    /* 500 pages, a separator (drawn Code 128) before every 100. */
    for (int i = 0; i < KILL_PAGES; i++) {
        char name[64], payload[64];
        snprintf(name, sizeof name, "batch2/img-%d.png", i + 1);
        if (i % 100 == 0) {
            snprintf(payload, sizeof payload, "CRVS1|HQ|1990|%d", i / 100 + 1);
            small_page(tmp_path(root, name), PG_CODE128, payload, (uint64_t)i + 7);
        } else {
            snprintf(payload, sizeof payload, "entry-%d", i);
            small_page(tmp_path(root, name), PG_QR, payload, (uint64_t)i + 7);
        }
    }
    {
        char *argv[] = { (char *)CIVREG_BIN, "scan", "import", "--data", data, "--user", "clerk1",
                         "--password-file", pw_clerk, (char *)tmp_path(root, "batch2"), NULL };
        assert_int_equal(proc_spawn(argv, &pid, &fd), 0);
    }
    /* Let it commit some pages, then kill it without warning. */
    for (int waited = 0;; waited++) {
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        if (query_int("SELECT COUNT(*) FROM scan_pages WHERE file_name LIKE 'img-%'", NULL) >= 60)
            break;
        if (waited > 1200)
            fail_msg("the import did not get going");
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st));
    close(fd);
    before = query_int("SELECT COUNT(*) FROM scan_pages WHERE file_name LIKE 'img-%'", NULL);
    assert_true(before >= 60 && before < KILL_PAGES);
    audit_clean();

    /* The same import again completes it. */
    sum = import_json(tmp_path(root, "batch2"), 0);
    assert_int_equal(jint(sum, "files_failed"), 0);
    assert_int_equal(jint(sum, "pages_skipped"), before);
    assert_int_equal(jint(sum, "pages_added"), KILL_PAGES - before);
    json_decref(sum);
    assert_int_equal(query_int("SELECT COUNT(*) FROM scan_pages WHERE file_name LIKE 'img-%'", NULL),
                     KILL_PAGES);
    assert_int_equal(query_int("SELECT COUNT(DISTINCT file_name) FROM scan_pages WHERE file_name "
                               "LIKE 'img-%'", NULL), KILL_PAGES);
    assert_int_equal(query_int("SELECT COUNT(*) FROM scan_volumes WHERE year = 1990", NULL), 5);
    assert_int_equal(query_int("SELECT COUNT(*) FROM scan_pages WHERE volume_id = ?", "HQ|1990|5"), 100);
    assert_int_equal(query_int("SELECT MAX(page_number) FROM scan_pages WHERE volume_id = ?", "HQ|1990|3"), 99);
    /* One signed event per file, exactly. */
    assert_int_equal(query_int("SELECT COUNT(*) FROM events WHERE type = 'scan.import'", NULL),
                     events0 + KILL_PAGES);
    check_volume_numbering();
    audit_clean();
}

/* `test_scan_import kill` runs the kill -9 test alone (its own CTest test). */
int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_volumes_and_bad_files),
    };
    const struct CMUnitTest kill_tests[] = {
        cmocka_unit_test(test_kill_and_resume),
    };
    if (argc > 1 && strcmp(argv[1], "kill") == 0)
        return cmocka_run_group_tests(kill_tests, setup, teardown);
    return cmocka_run_group_tests(tests, setup, teardown);
}
