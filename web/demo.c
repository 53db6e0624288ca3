/* civreg web: `civreg serve --demo`. When the data directory does not exist
 * yet, create it with one office, one user per role (two clerks), all with
 * the password "demo", and a few hundred synthetic birth records in every
 * state — made through the registry API, so every one is keyed, verified,
 * registered and corrected by the right user and properly signed — and,
 * with the passport office, the office PKI (CSCA, document signer, barcode
 * signer) and a delivery of blank booklets, so an application goes from
 * enrolment to a personalized chip and an extract is sealed without the
 * command line. Names come
 * from several cultures and scripts (accents, Cyrillic, Arabic, Vietnamese).
 * Demo mode only: a real installation has no default passwords. */
#include "web.h"
#include "web_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "core/secret.h"

/* A demo office is tried by one person in every role from one machine, in
 * several browsers at once, each holding up to six keep-alive connections:
 * more than the default per-address cap (16) lets in. */
#define DEMO_CONF                                                                              \
    "# a demo office: every role tried from one machine, in several browsers\n"                \
    "max_connections_per_address = 48\n"

#ifdef CIVREG_HAVE_REGISTRY

#include "registry/registry.h"
#include "registry/search.h"

extern const struct embedded_file web_demo_files[];
extern const size_t web_demo_files_count;

const struct web_demo_user web_demo_users[] = {
    { "admin", ROLE_ADMIN, "Joseph Mwangi" },
    { "clerk", ROLE_CLERK, "Grace Wanjiru" },
    { "clerk2", ROLE_CLERK, "Hélène Dubois" },
    { "registrar", ROLE_REGISTRAR, "Amina Otieno" },
    { "enrol", ROLE_ENROLMENT_OFFICER, "Peter Kamau" },
    { "approver", ROLE_APPROVER, "Fatuma Hassan" },
    { "operator", ROLE_ISSUANCE_OPERATOR, "David Ochieng" },
    { "auditor", ROLE_AUDITOR, "Margaret Njeri" },
    { NULL, 0, NULL },
};

struct culture {
    const char *given_f[5], *given_m[5], *family[5], *locality[3];
};

static const struct culture cultures[] = {
    { { "Amélie", "Léa", "Hélène", "Anaïs", "Chloé" },
      { "François", "Jérôme", "Noël", "Loïc", "Benoît" },
      { "Lefèvre", "Bélanger", "Côté", "Després", "Gagné" },
      { "Saint-Étienne", "Besançon", "Nîmes" } },
    { { "Wanjiru", "Achieng", "Njeri", "Akinyi", "Chebet" },
      { "Omondi", "Kiprop", "Mwangi", "Otieno", "Kamau" },
      { "Otieno", "Kamau", "Mwangi", "Wekesa", "Njoroge" },
      { "Kisumu", "Eldoret", "Nakuru" } },
    { { "Анастасия", "Ольга", "Наталья", "Ирина", "Светлана" },
      { "Дмитрий", "Сергей", "Алексей", "Иван", "Михаил" },
      { "Иванова", "Петрова", "Смирнова", "Кузнецова", "Попова" },
      { "Новосибирск", "Казань", "Омск" } },
    { { "فاطمة", "عائشة", "مريم", "زينب", "خديجة" },
      { "محمد", "يوسف", "علي", "عمر", "حسن" },
      { "الحسن", "المنصور", "بن علي", "العمري", "الزهراني" },
      { "الرباط", "فاس", "مكناس" } },
    { { "Thị Ánh", "Ngọc Hương", "Thu Trang", "Mỹ Linh", "Bảo Châu" },
      { "Văn Đức", "Minh Khôi", "Quốc Bảo", "Hữu Phước", "Đình Trọng" },
      { "Nguyễn", "Trần", "Phạm", "Lê", "Đặng" },
      { "Huế", "Đà Nẵng", "Hội An" } },
    { { "Gülşen", "Ayşe", "Żaneta", "Małgorzata", "Øydis" },
      { "Şükrü", "Łukasz", "Çağrı", "Søren", "Ömer" },
      { "Yılmaz", "Wójcik", "Øvergaard", "Doğan", "Kowalczyk" },
      { "İzmir", "Łódź", "Tromsø" } },
};

/* Reproducible pseudo-random numbers (xorshift64*): the demo is the same on
 * every machine. Not for anything secret. */
static unsigned pick(uint64_t *s, unsigned n)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (unsigned)(((*s * 2685821657736338717ULL) >> 33) % n);
}

static int set_str(json_t *obj, const char *key, const char *value)
{
    return json_object_set_new(obj, key, json_string(value));
}

/* One synthetic record, shaped like the registry's example, keyed from the
 * scan SCAN (a blob hash). */
static json_t *make_record(uint64_t *s, const char *office, int i, const char *scan)
{
    const struct culture *c = &cultures[pick(s, sizeof cultures / sizeof cultures[0])];
    json_t *r = registry_record_example();
    json_t *child, *birth, *mother, *father, *informant, *reg;
    bool girl = pick(s, 2) == 0;
    const char *family = c->family[pick(s, 5)];
    char mgiven[128], fullname[256], date[40], regdate[40], remarks[128]; /* dates: room for any int */
    int year = 1950 + (int)pick(s, 70), month = 1 + (int)pick(s, 12), day = 1 + (int)pick(s, 28);

    if (r == NULL)
        return NULL;
    child = json_object_get(r, "child");
    birth = json_object_get(r, "birth");
    mother = json_object_get(r, "mother");
    father = json_object_get(r, "father");
    informant = json_object_get(r, "informant");
    reg = json_object_get(r, "register");
    (void)snprintf(date, sizeof date, "%04d-%02d-%02d", year, month, day);
    (void)snprintf(regdate, sizeof regdate, "%04d-%02d-%02d", year, month, day < 20 ? day + 7 : 28);
    (void)snprintf(mgiven, sizeof mgiven, "%s", c->given_f[pick(s, 5)]);
    (void)snprintf(fullname, sizeof fullname, "%s %s", mgiven, family);
    (void)snprintf(remarks, sizeof remarks, "Synthetic demo record %d.", i + 1);
    if (set_str(child, "given_names", girl ? c->given_f[pick(s, 5)] : c->given_m[pick(s, 5)]) ||
        set_str(child, "family_name", family) ||
        set_str(child, "sex", girl ? "female" : "male") || set_str(birth, "date", date) ||
        set_str(birth, "locality", c->locality[pick(s, 3)]) ||
        set_str(mother, "given_names", mgiven) || set_str(mother, "family_name", family) ||
        set_str(father, "given_names", c->given_m[pick(s, 5)]) ||
        set_str(father, "family_name", family) || set_str(informant, "name", fullname) ||
        set_str(r, "registration_date", regdate) || set_str(reg, "office", office) ||
        json_object_set_new(reg, "year", json_integer(year)) ||
        json_object_set_new(reg, "page", json_integer(1 + i / 10)) ||
        json_object_set_new(reg, "entry", json_integer(1 + i % 10)) ||
        set_str(r, "remarks", remarks) ||
        json_object_set_new(r, "evidence", json_pack("[s]", scan)) != 0) {
        json_decref(r);
        return NULL;
    }
    /* The example's parents were born decades before this child. */
    (void)snprintf(date, sizeof date, "%04d", year - 25 - (int)pick(s, 10));
    (void)set_str(mother, "date_of_birth", date);
    (void)snprintf(date, sizeof date, "%04d", year - 28 - (int)pick(s, 12));
    (void)set_str(father, "date_of_birth", date);
    return r;
}

/* Demo records are made-up people: any possible duplicate the registry
 * flags among them is resolved as distinct before registration. */
static int resolve_demo_duplicates(struct db *db, const struct registry_actor *registrar,
                                   const char *id, struct err *err)
{
    json_t *pairs = NULL, *p;
    size_t i;
    int rc = 0;

    if (registry_dup_list(db, registrar, id, &pairs, err) != 0)
        return -1;
    json_array_foreach(pairs, i, p) {
        const char *a = json_string_value(json_object_get(p, "record_id"));
        const char *b = json_string_value(json_object_get(p, "other_id"));
        if (strcmp(json_string_value(json_object_get(p, "status")), "open") != 0)
            continue;
        if (registry_dup_resolve(db, registrar, a, b, false,
                                 "demo: synthetic records are different people", err) != 0) {
            rc = -1;
            break;
        }
    }
    json_decref(pairs);
    return rc;
}

static int sign_in(struct db *db, const char *keys_dir, const char *user,
                   struct registry_actor **a, struct err *err)
{
    if (registry_authenticate(db, keys_dir, user, WEB_DEMO_PASSWORD, a, err) != 0)
        return err_prefix(err, "demo: sign-in of %s", user);
    return 0;
}

/* Records made per batch: each batch is a few transactions of the
 * registry's bulk path (registry_record_steps), so 100,000 records take
 * minutes and a WAL of a batch, not one transaction of them all. */
#define DEMO_BATCH 500

/* What stage of its life demo record I is left at: 0-2 draft, 3-5
 * verified, 6-9 registered (9 also corrected). */
static int demo_stage(int i)
{
    return i % 10;
}

/* Run the N STEPS of a batch; every step must be done except a
 * registration held back by possible duplicates (resolved after). */
static int run_steps(struct db *db, struct registry_step *steps, size_t n, int first,
                     struct err *err)
{
    if (registry_record_steps(db, steps, n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!steps[i].done && steps[i].kind != REGISTRY_STEP_REGISTER) {
            *err = steps[i].err;
            return err_prefix(err, "demo: batch from record %d", first + 1);
        }
    }
    return 0;
}

/* Records FIRST..FIRST+K-1 (RECS) from draft to the stage demo_stage gives
 * each, as the step-by-step calls would leave them: the drafts and blind
 * re-keyings in one transaction, the possible duplicates of those to be
 * registered resolved as distinct in a second, the registrations in a
 * third, and in a last one the registrations held back by a duplicate
 * found meanwhile and the corrections. */
static int make_batch(struct db *db, const struct registry_actor *clerk,
                      const struct registry_actor *clerk2, const struct registry_actor *registrar,
                      int first, json_t *const *recs, size_t k, struct registry_step *steps,
                      char **ids, struct err *err)
{
    size_t n = 0, nreg = 0;
    int rc = -1;

    for (size_t i = 0; i < k; i++)
        steps[n++] = (struct registry_step){ .kind = REGISTRY_STEP_DRAFT, .actor = clerk,
                                             .record = recs[i] };
    for (size_t i = 0; i < k; i++)
        if (demo_stage(first + (int)i) >= 3)
            steps[n++] = (struct registry_step){ .kind = REGISTRY_STEP_VERIFY, .actor = clerk2,
                                                 .record = recs[i], .draft = i };
    if (run_steps(db, steps, n, first, err) != 0)
        goto out;
    for (size_t i = 0; i < k; i++) {
        ids[i] = steps[i].new_id;
        steps[i].new_id = NULL;
    }
    registry_steps_release(steps, n);
    if (db_tx_begin(db, err) != 0)
        goto out;
    for (size_t i = 0; i < k; i++)
        if (demo_stage(first + (int)i) >= 6 &&
            resolve_demo_duplicates(db, registrar, ids[i], err) != 0) {
            db_tx_rollback(db);
            goto out;
        }
    if (db_tx_commit(db, err) != 0)
        goto out;
    for (size_t i = 0; i < k; i++)
        if (demo_stage(first + (int)i) >= 6)
            steps[nreg++] = (struct registry_step){ .kind = REGISTRY_STEP_REGISTER,
                                                    .actor = registrar, .id = ids[i] };
    if (run_steps(db, steps, nreg, first, err) != 0)
        goto out;
    if (db_tx_begin(db, err) != 0)
        goto out;
    for (size_t i = 0, r = 0; i < k; i++) {
        int stage = demo_stage(first + (int)i);
        bool ok = true;
        if (stage < 6)
            continue;
        if (!steps[r++].done)
            ok = resolve_demo_duplicates(db, registrar, ids[i], err) == 0 &&
                 registry_record_register(db, registrar, ids[i], NULL, err) == 0;
        if (ok && stage == 9) {
            /* A registered record corrected by the registrar: two versions. */
            json_t *fix = json_deep_copy(recs[i]);
            ok = fix != NULL &&
                 set_str(json_object_get(fix, "birth"), "time", "06:15") == 0 &&
                 registry_record_correct(db, registrar, ids[i], fix,
                                         "time of birth misread from the register page", NULL,
                                         NULL, err) == 0;
            if (fix == NULL)
                err_oom(err);
            json_decref(fix);
        }
        if (!ok) {
            db_tx_rollback(db);
            err_prefix(err, "demo: record %d", first + (int)i + 1);
            goto out;
        }
    }
    if (db_tx_commit(db, err) != 0)
        goto out;
    rc = 0;
out:
    registry_steps_release(steps, n > nreg ? n : nreg);
    for (size_t i = 0; i < k; i++) {
        free(ids[i]);
        ids[i] = NULL;
    }
    return rc;
}

static int make_records(struct db *db, const char *keys_dir, const char *blobs_dir,
                        const char *office, int count, struct err *err)
{
    struct registry_actor *clerk = NULL, *clerk2 = NULL, *registrar = NULL;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    const struct embedded_file *page =
        embedded_find(web_demo_files, web_demo_files_count, "register-page.png");
    struct registry_step *steps = calloc(2 * DEMO_BATCH, sizeof *steps);
    json_t **recs = calloc(DEMO_BATCH, sizeof *recs);
    char **ids = calloc(DEMO_BATCH, sizeof *ids);
    char scan[65];
    int rc = -1;

    if (steps == NULL || recs == NULL || ids == NULL) {
        err_oom(err);
        goto out;
    }
    if (page == NULL) {
        err_set(err, "demo: the register page image is not built in");
        goto out;
    }
    if (sign_in(db, keys_dir, "clerk", &clerk, err) != 0 ||
        sign_in(db, keys_dir, "clerk2", &clerk2, err) != 0 ||
        sign_in(db, keys_dir, "registrar", &registrar, err) != 0)
        goto out;
    /* The scan every demo record is keyed from (stored once: blobs are
     * content-addressed). */
    if (registry_blob_put(db, blobs_dir, clerk, page->data, page->len, "image/png", scan, err) !=
        0)
        goto out;
    for (int first = 0; first < count; first += DEMO_BATCH) {
        size_t k = (size_t)(count - first < DEMO_BATCH ? count - first : DEMO_BATCH);
        int made = 0;
        for (size_t i = 0; i < k; i++)
            if ((recs[i] = make_record(&seed, office, first + (int)i, scan)) == NULL && made == 0) {
                err_oom(err);
                made = err_prefix(err, "demo: record %d", first + (int)i + 1);
            }
        if (made == 0)
            made = make_batch(db, clerk, clerk2, registrar, first, recs, k, steps, ids, err);
        for (size_t i = 0; i < k; i++) {
            json_decref(recs[i]);
            recs[i] = NULL;
        }
        if (made != 0)
            goto out;
    }
    rc = 0;
out:
    free(steps);
    free(recs);
    free(ids);
    registry_actor_free(clerk);
    registry_actor_free(clerk2);
    registry_actor_free(registrar);
    return rc;
}

#ifdef CIVREG_HAVE_PASSPORT
#include <time.h>

#include "issuance/passport/passport.h"
#include "issuance/pki/pki.h"

static int demo_pki_event(void *ctx, struct db *db, const char *type, const json_t *objects,
                          const json_t *data, struct err *err)
{
    return registry_event_append(db, ctx, type, objects, data, NULL, err);
}

/* The office PKI as `civreg pki init --country UT`, `pki issue-ds
 * --doc-types P,ID` and `pki issue-barcode-signer` make it, each action a
 * signed event of the admin: chips are signed at personalization and
 * certified extracts carry a seal. */
static int make_pki(const char *dir, const struct registry_actor *admin, struct err *err)
{
    struct pki_init_opts io = { 0 };
    struct pki_issue_opts ds = { 0 }, bc = { 0 };
    char serial[PKI_SERIAL_MAX];
    struct pki *p = NULL;
    int rc = -1;

    if (pki_open(dir, true, &p, err) != 0)
        goto out;
    pki_require_events(p, true);
    pki_set_event_sink(p, demo_pki_event, (void *)admin);
    io.country = "UT"; /* ICAO's specimen state Utopia (UTO) */
    io.alg = PKI_ALG_ECDSA_P256;
    io.now = time(NULL);
    if (pki_init(p, &io, serial, err) != 0)
        goto out;
    ds.kind = PKI_KIND_DS;
    ds.alg = PKI_ALG_ECDSA_P256;
    ds.doc_types = "P,ID";
    ds.now = io.now;
    if (pki_issue(p, &ds, serial, err) != 0)
        goto out;
    bc.kind = PKI_KIND_BARCODE;
    bc.alg = PKI_ALG_ECDSA_P256;
    bc.now = io.now;
    if (pki_issue(p, &bc, serial, err) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0)
        err_prefix(err, "demo: PKI");
    pki_close(p);
    return rc;
}

/* A delivery of blank booklets received by the issuance operator, so that
 * approval can reserve one. */
static int receive_booklets(struct datadir *dd, struct db *db, struct err *err)
{
    struct registry_actor *op = NULL;
    struct office_env env;
    int rc = -1;

    if (sign_in(db, dd->keys_dir, "operator", &op, err) != 0)
        return -1;
    memset(&env, 0, sizeof env);
    env.db = db;
    env.blobs_dir = dd->blobs_dir;
    env.keys_dir = dd->keys_dir;
    env.reg = op;
    office_env_init(&env);
    if (office_booklets_receive(db, &env.actor, "TD3", "P100001", "P100100",
                                "demo delivery note 1", NULL, err) != 0 ||
        office_booklets_receive(db, &env.actor, "TD1", "C100001", "C100050",
                                "demo delivery note 2", NULL, err) != 0)
        err_prefix(err, "demo: booklet stock");
    else
        rc = 0;
    registry_actor_free(op);
    return rc;
}
#endif

int web_demo_prepare(const char *dir, int records, bool *created, struct err *err)
{
    const struct datadir_init_opts init = { "UTO", "DEMO", "Demo district office", DEMO_CONF };
    struct datadir *dd = NULL;
    struct db *db = NULL;
    struct registry_actor *admin = NULL;
    struct stat st;
    struct buf tmp = BUF_INIT(4096);
    int rc = -1;

    *created = false;
    if (secret_init(err) != 0)
        return -1;
    if (stat(dir, &st) == 0)
        return 0; /* an existing data directory is used as it is */
    if (errno != ENOENT)
        return err_set(err, "demo: %s: %s", dir, strerror(errno));
    /* Built beside it and renamed when complete, so a failure midway never
     * leaves a half-made demo that a later start would take as it is. */
    if (buf_printf(&tmp, "%s.partial", dir) != 0)
        return err_set(err, "demo: path too long");
    if (stat(buf_str(&tmp), &st) == 0) {
        err_set(err, "demo: %s is left from an interrupted start: remove it", buf_str(&tmp));
        goto out;
    }
    log_info("demo: creating %s with users and %d records (this takes a moment)", dir, records);
    if (datadir_init(buf_str(&tmp), &init, err) != 0 || datadir_open(buf_str(&tmp), &dd, err) != 0 ||
        datadir_db_open(dd, DB_OPEN_MIGRATE, &db, err) != 0)
        goto out;
    for (const struct web_demo_user *u = web_demo_users; u->username != NULL; u++) {
        const struct registry_user_new nu = { u->username, WEB_DEMO_PASSWORD, u->roles,
                                              init.office, true, u->name };
        if (registry_user_add(db, dd->keys_dir, admin, &nu, err) != 0) {
            err_prefix(err, "demo: user %s", u->username);
            goto out;
        }
        /* The first user (admin) adds the others. */
        if (admin == NULL && sign_in(db, dd->keys_dir, u->username, &admin, err) != 0)
            goto out;
    }
    if (make_records(db, dd->keys_dir, dd->blobs_dir, init.office, records, err) != 0)
        goto out;
#ifdef CIVREG_HAVE_PASSPORT
    if (make_pki(buf_str(&tmp), admin, err) != 0 || receive_booklets(dd, db, err) != 0)
        goto out;
#endif
    db_close(db);
    db = NULL;
    if (rename(buf_str(&tmp), dir) != 0) {
        err_set(err, "demo: cannot rename %s to %s: %s", buf_str(&tmp), dir, strerror(errno));
        goto out;
    }
    *created = true;
    rc = 0;
out:
    if (rc != 0 && dd != NULL)
        log_error("demo: %s is incomplete; remove it before trying again", buf_str(&tmp));
    registry_actor_free(admin);
    db_close(db);
    datadir_free(dd);
    buf_release(&tmp);
    return rc;
}

#else

const struct web_demo_user web_demo_users[] = { { NULL, 0, NULL } };

/* Without the registry there are no users or records to make: the demo is
 * an empty data directory, and the server says so. */
int web_demo_prepare(const char *dir, int records, bool *created, struct err *err)
{
    const struct datadir_init_opts init = { "UTO", "DEMO", "Demo district office", DEMO_CONF };
    struct stat st;

    (void)records;
    *created = false;
    if (stat(dir, &st) == 0)
        return 0;
    log_warn("demo: this build has no registry module: %s gets no users or records", dir);
    if (datadir_init(dir, &init, err) != 0)
        return -1;
    *created = true;
    return 0;
}

#endif
