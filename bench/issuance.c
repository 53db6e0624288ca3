/* Benchmark: documents personalized per second. Three figures:
 *   - data page PDFs rendered (TD3 and TD1), libharu alone;
 *   - whole personalizations through the passport office (MRZ, data page,
 *     blobs stored and fsynced, booklet and document rows, signed events),
 *     on a fresh data directory under /tmp (removed afterwards).
 * The workflow is measured twice: data page only, then with the chip
 * package signed by a document signer (ECDSA P-256) from the same MRZ.
 * Run it by hand on an otherwise idle machine. */
#include "bench_util.h"
#include "office_staff.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"
#include "core/secret.h"
#include "db/datadir.h"
#include "db/db.h"
#include "issuance/print/datapage.h"
#include "issuance/passport/office_app.h"
#include "issuance/pki/pki.h"
#include "registry/registry.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p;
    long n;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
        fprintf(stderr, "bench issuance: cannot read %s\n", path);
        exit(1);
    }
    p = malloc((size_t)n);
    if (p == NULL || fread(p, 1, (size_t)n, f) != (size_t)n)
        exit(1);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static int die(const char *what, const struct err *err)
{
    fprintf(stderr, "bench issuance: %s: %s\n", what, err_msg(err));
    exit(1);
}

static void bench_render(enum mrz_format f, const unsigned char *photo, size_t photo_len,
                         const unsigned char *sig, size_t sig_len, int n)
{
    struct datapage_input in;
    struct mrz_input mi;
    struct buf mrz = BUF_INIT(256), pdf = BUF_INIT(32 << 20);
    struct err err = ERR_INIT;
    size_t bytes = 0;

    memset(&in, 0, sizeof in);
    memset(&mi, 0, sizeof mi);
    mi.format = in.format = f;
    mi.document_code = in.document_code = f == MRZ_TD3 ? "P" : "I";
    mi.issuing_state = in.issuing_state = "UTO";
    mi.primary_identifier = in.primary_identifier = "Eriksson";
    mi.secondary_identifier = in.secondary_identifier = "Anna María";
    mi.document_number = in.document_number = "L898902C3";
    mi.nationality = in.nationality = "UTO";
    mi.date_of_birth = in.date_of_birth = (struct mrz_date){ 1974, 8, 12 };
    mi.sex = in.sex = 'F';
    mi.date_of_expiry = in.date_of_expiry = (struct mrz_date){ 2032, 4, 15 };
    in.date_of_issue = (struct mrz_date){ 2022, 4, 16 };
    in.document_name = f == MRZ_TD3 ? "PASSPORT" : "IDENTITY CARD";
    in.authority = "Passport Office";
    in.place_of_birth = "Zenith";
    in.photo = photo;
    in.photo_len = photo_len;
    in.signature = sig;
    in.signature_len = sig_len;
    if (mrz_generate(&mi, NULL, &mrz, NULL, &err) != 0)
        die("mrz", &err);
    in.mrz = buf_str(&mrz);
    double t0 = now(), c0 = bench_cpu();
    for (int i = 0; i < n; i++) {
        buf_reset(&pdf);
        if (datapage_render(&in, &pdf, &err) != 0)
            die("render", &err);
        bytes += pdf.len;
    }
    double dt = now() - t0, dc = bench_cpu() - c0;
    printf("data page PDF %s (libharu, fonts embedded)      %8.1f pages/s  (%.1f per CPU second, "
           "%zu bytes each)\n",
           mrz_format_name(f), n / dt, dc > 0 ? n / dc : 0.0, bytes / (size_t)n);
    bench_figure(f == MRZ_TD3 ? "datapage.td3_pages_per_s" : "datapage.td1_cards_per_s", n / dt,
                 "pages/s");
    buf_release(&mrz);
    buf_release(&pdf);
}

static int pki_event(void *ctx, struct db *db, const char *type, const json_t *objects,
                     const json_t *data, struct err *err)
{
    return registry_event_append(db, ctx, type, objects, data, NULL, err);
}

static void bench_workflow(const unsigned char *photo, size_t photo_len, const unsigned char *sig,
                           size_t sig_len, int n, bool chip)
{
    char dir[] = "/tmp/civreg-bench-issuance-XXXXXX", data[128];
    struct datadir *dd = NULL;
    struct db *db = NULL;
    struct err err = ERR_INIT;
    struct office_staff staff;
    const char *what;
    char **ids = calloc((size_t)n, sizeof *ids);

    if (mkdtemp(dir) == NULL || ids == NULL)
        exit(1);
    snprintf(data, sizeof data, "%s/data", dir);
    if (datadir_init(data, NULL, &err) != 0 || datadir_open(data, &dd, &err) != 0 ||
        datadir_db_open(dd, DB_OPEN_MIGRATE, &db, &err) != 0)
        die("data directory", &err);
    if (office_staff_open(db, dd->keys_dir, &staff, &what, &err) != 0)
        die(what, &err);

    struct office_env eo = { db, dd->blobs_dir, dd->keys_dir, staff.enrol, NULL, { 0 } };
    struct office_env ea = { db, dd->blobs_dir, dd->keys_dir, staff.appr, NULL, { 0 } };
    struct office_env ep = { db, dd->blobs_dir, dd->keys_dir, staff.oper, NULL, { 0 } };
    office_env_init(&eo);
    office_env_init(&ea);
    office_env_init(&ep);
    if (office_booklets_receive(db, &ep.actor, "TD3", "B000001", "B099999", "bench", NULL,
                                &err) != 0)
        die("booklets", &err);
    /* N registered persons, each with an approved application. */
    for (int i = 0; i < n; i++) {
        json_t *rec = office_distinct_record(i, 1000), *res = NULL, *app = NULL;
        char *rid = NULL;
        struct office_enrolment e;
        if (rec == NULL) {
            err_set(&err, "out of memory");
            die("record", &err);
        }
        if (registry_record_draft(db, staff.clerk1, rec, &rid, &err) != 0 ||
            registry_record_verify(db, staff.clerk2, rid, rec, NULL, &err) != 0 ||
            registry_record_register(db, staff.reg, rid, &res, &err) != 0)
            die("record", &err);
        memset(&e, 0, sizeof e);
        e.uin = json_string_value(json_object_get(res, "uin"));
        e.photo = photo;
        e.photo_len = photo_len;
        e.signature = sig;
        e.signature_len = sig_len;
        if (office_app_enrol(&eo, &e, &app, &err) != 0)
            die("enrol", &err);
        ids[i] = strdup(json_string_value(json_object_get(app, "id")));
        if (office_app_approve(&ea, ids[i], NULL, &err) != 0)
            die("approve", &err);
        json_decref(rec);
        json_decref(res);
        json_decref(app);
        free(rid);
    }
    struct pki *pki = NULL;
    if (chip) {
        struct pki_init_opts po = { "UT", NULL, NULL, PKI_ALG_ECDSA_P256, 0, time(NULL) };
        struct pki_issue_opts io = { PKI_KIND_DS, PKI_ALG_ECDSA_P256, 0, 0, NULL, time(NULL) };
        char serial[PKI_SERIAL_MAX];
        if (pki_open(data, true, &pki, &err) != 0)
            die("pki", &err);
        pki_set_event_sink(pki, pki_event, staff.admin);
        if (pki_init(pki, &po, serial, &err) != 0 || pki_issue(pki, &io, serial, &err) != 0)
            die("pki", &err);
        /* personalization signs chips on the office's own connection */
        pki_close(pki);
        if (pki_open_db(db, data, &pki, &err) != 0)
            die("pki", &err);
        pki_set_event_sink(pki, pki_event, staff.oper);
        ep.pki = pki;
    }
    double t0 = now();
    for (int i = 0; i < n; i++)
        if (office_app_personalize(&ep, ids[i], NULL, &err) != 0)
            die("personalize", &err);
    double dt = now() - t0;
    printf("personalization through the office (TD3: MRZ, PDF%s, blobs, events) %8.1f "
           "documents/s\n",
           chip ? ", chip signed" : "", n / dt);
    bench_figure(chip ? "office.personalize_chip_per_s" : "office.personalize_per_s", n / dt,
                 "documents/s");
    pki_close(pki);
    for (int i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    office_staff_free(&staff);
    db_close(db);
    datadir_free(dd);
    bench_remove_dir("issuance", dir);
}

int main(int argc, char **argv)
{
    static const char usage[] =
        "usage: issuance [SOURCE_DIR] [--pages N] [--documents N] [--json FILE]\n"
        "  data page PDFs rendered (TD3 and TD1, N each, default 200) and documents\n"
        "  personalized through the office (N, default 40, without and with a chip);\n"
        "  SOURCE_DIR holds tests/data/issuance (default: the source tree)\n";
    const char *src = CIVREG_SOURCE_DIR;
    long pages = 200, docs = 40;
    char path[1024];
    size_t photo_len, sig_len;
    unsigned char *photo, *sig;

    struct err err = ERR_INIT;
    int o = bench_options(&argc, argv, usage);
    if (o != 0)
        return o > 0 ? 0 : 2;
    for (int i = 1; i < argc; i++) {
        bool named = (strcmp(argv[i], "--pages") == 0 || strcmp(argv[i], "--documents") == 0);
        if (named && i + 1 < argc) {
            char *end;
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || v < 1 || v > 1000000) {
                fputs(usage, stderr);
                return 2;
            }
            *(argv[i][2] == 'p' ? &pages : &docs) = v;
            i++;
        } else if (!named && argv[i][0] != '-') {
            src = argv[i];
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (secret_init(&err) != 0)
        die("libsodium", &err);
    {
        double e = bench_anchor_ecdsa_p256_sign(0.5);
        printf("anchor: ECDSA P-256 sign (OpenSSL) %.0f/s, one core\n", e);
        bench_figure("anchor.ecdsa_p256_sign", e, "ops/s");
    }
    snprintf(path, sizeof path, "%s/tests/data/issuance/portrait.jpg", src);
    photo = slurp(path, &photo_len);
    snprintf(path, sizeof path, "%s/tests/data/issuance/signature.png", src);
    sig = slurp(path, &sig_len);
    bench_render(MRZ_TD3, photo, photo_len, sig, sig_len, (int)pages);
    bench_render(MRZ_TD1, photo, photo_len, sig, sig_len, (int)pages);
    bench_workflow(photo, photo_len, sig, sig_len, (int)docs, false);
    bench_workflow(photo, photo_len, sig, sig_len, (int)docs, true);
    free(photo);
    free(sig);
    return bench_write_json("issuance") != 0;
}
