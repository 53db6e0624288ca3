#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_registry.h"
#include "core/fanout.h"
#include "core/json.h"
#include "db/datadir.h"
#include "registry/registry.h"

#define USER_OPTS "[--data DIR] --user U [--password-file F]"
#define IMPORT_LINE_MAX (256 * 1024)

static cli_run_fn record_signed, record_import;

static const struct cli_command record_commands[] = {
    { "draft", record_signed, "key a new birth record (clerk)",
      "usage: civreg record draft " USER_OPTS "\n"
      "       civreg record draft --example\n"
      "\n"
      "Reads the record as one JSON object on stdin (after the password line\n"
      "when no --password-file is given) and stores it as a draft keyed by U.\n"
      "Prints the new record's id. --example prints a complete valid record;\n"
      "the fields are documented in docs/registry.md.\n" },
    { "verify", record_signed, "re-key a draft blind (a second clerk)",
      "usage: civreg record verify ID " USER_OPTS "\n"
      "\n"
      "Reads U's own keying of the same register entry as JSON on stdin and\n"
      "compares it field by field with the draft. When every field agrees the\n"
      "record is verified; otherwise the mismatches are printed as JSON and\n"
      "nothing changes (exit 1). U may not be a clerk who keyed the record.\n" },
    { "register", record_signed, "register a verified record (registrar)",
      "usage: civreg record register ID " USER_OPTS "\n"
      "\n"
      "Allocates the registration number OFFICE/YEAR/NNNNNN, creates the person\n"
      "with a new identification number (UIN) and signs the link statement.\n"
      "Prints {id, registration_number, uin} as JSON.\n" },
    { "correct", record_signed, "correct a record: a new version with a reason",
      "usage: civreg record correct ID --reason TEXT [--evidence HASH]... " USER_OPTS "\n"
      "\n"
      "Reads the whole corrected record as JSON on stdin and stores it as a new\n"
      "version; earlier versions stay readable. A draft or verified record goes\n"
      "back to draft (to be verified again); a registered record can be\n"
      "corrected by a registrar only, who signs a new link statement. --evidence\n"
      "names blobs (see `civreg evidence add`) supporting the correction.\n"
      "Prints the new version number.\n" },
    { "show", record_signed, "show a record (current or given version)",
      "usage: civreg record show ID [--version N] " USER_OPTS "\n"
      "\n"
      "ID is a record id, registration number or UIN. Prints JSON.\n" },
    { "history", record_signed, "all versions and events of a record",
      "usage: civreg record history ID " USER_OPTS "\n" },
    { "list", record_signed, "list records",
      "usage: civreg record list [--status draft|verified|registered] [--limit N]\n"
      "                          [--offset N] [--born-from DATE] [--born-to DATE]\n"
      "                          " USER_OPTS "\n"
      "\n"
      "DATEs are YYYY-MM-DD and bound the child's date of birth (inclusive).\n" },
    { "import", record_import, "draft many records from a JSON Lines file (clerk)",
      "usage: civreg record import --jsonl FILE [--batch N] [--dry-run] " USER_OPTS "\n"
      "\n"
      "Drafts one record per line of FILE, N records per transaction (default\n"
      "2000). After each commit prints \"committed LINE ID\" for every record of\n"
      "the batch, so a record reported is durably stored. A line that is not a\n"
      "valid record is reported (\"refused LINE: why\") and skipped; exit 1 when\n"
      "any line was refused.\n"
      "\n"
      "Each record remembers its source: the SHA-256 of FILE and the line number,\n"
      "signed in its record.draft event. A line already imported adds nothing and\n"
      "is reported as \"already LINE ID\", so an interrupted import is finished by\n"
      "running the same command again. --dry-run stores nothing and prints what\n"
      "an import would do: \"would add LINE\", \"already LINE ID\", \"refused\n"
      "LINE: why\".\n" },
    { NULL, NULL, NULL, NULL },
};

struct record_opts {
    struct cli_common_opts common; /* --data, --user, --password-file */
    const char *reason, *status, *jsonl;
    const char *born_from, *born_to;
    struct cli_list evidence;
    long version, limit, offset, batch;
    bool example, dry_run;
    const char *arg; /* the positional ID */
    int what;        /* record_signed: the subcommand's row */
};

#define OFF(field) offsetof(struct record_opts, field)

/* Each option once, with the subcommands that take it. */
static const struct cli_opt record_options[] = {
    { "example", CLI_FLAG, OFF(example), 0, 0, "draft" },
    { "version", CLI_INT, OFF(version), 1, 1000000, "show" },
    { "reason", CLI_STRING, OFF(reason), 0, 0, "correct" },
    { "evidence", CLI_LIST, OFF(evidence), 0, 0, "correct" },
    { "status", CLI_STRING, OFF(status), 0, 0, "list" },
    { "limit", CLI_INT, OFF(limit), 1, 10000, "list" },
    { "offset", CLI_INT, OFF(offset), 0, 1000000000, "list" },
    { "born-from", CLI_STRING, OFF(born_from), 0, 0, "list" },
    { "born-to", CLI_STRING, OFF(born_to), 0, 0, "list" },
    { "jsonl", CLI_STRING, OFF(jsonl), 0, 0, "import" },
    { "batch", CLI_INT, OFF(batch), 1, REGISTRY_BATCH_MAX, "import" },
    { "dry-run", CLI_FLAG, OFF(dry_run), 0, 0, "import" },
    { NULL, 0, 0, 0, 0, NULL },
};

static const struct cli_family record_family = { "record", record_commands, record_options, "*",
                                                "*" };

int cmd_record(int argc, char **argv)
{
    return cli_family_dispatch(&record_family, argc, argv);
}

/* Parse `record NAME` into O, with the record ID when WANT_ARG. Returns
 * CLI_GO, or the exit code. */
static int parse(const char *name, bool want_arg, int argc, char **argv, struct record_opts *o)
{
    int rc;

    memset(o, 0, sizeof *o);
    rc = cli_parse(&record_family, name, o, argc, argv, want_arg, want_arg, "the record ID");
    if (rc == CLI_GO && want_arg)
        o->arg = o->common.args[0];
    return rc;
}

#define PARSE(name, want_arg)                                                                      \
    do {                                                                                           \
        int prc_ = parse(name, want_arg, argc, argv, &o);                                          \
        if (prc_ != CLI_GO)                                                                        \
            return prc_;                                                                           \
    } while (0)

static int do_draft(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    json_t *rec = NULL;
    char *id = NULL;
    int rc = -1;

    (void)opts, (void)out;
    if (cli_stdin_json(&rec, err) == 0 && registry_record_draft(s->db, s->actor, rec, &id, err) == 0) {
        printf("%s\n", id);
        rc = 0;
    }
    free(id);
    json_decref(rec);
    return rc;
}

static int do_verify(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    const struct record_opts *o = opts;
    json_t *rec = NULL, *mism = NULL;
    int rc = -1;

    (void)out;
    if (cli_stdin_json(&rec, err) != 0 ||
        registry_record_verify(s->db, s->actor, o->arg, rec, &mism, err) != 0) {
        if (mism) {
            json_t *report = json_pack("{s:s, s:O}", "record", o->arg, "mismatches", mism);
            if (report)
                (void)cli_print_json(report);
            json_decref(report);
        }
    } else {
        printf("verified %s\n", o->arg);
        rc = 0;
    }
    json_decref(mism);
    json_decref(rec);
    return rc;
}

static int do_correct(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    const struct record_opts *o = opts;
    json_t *rec = NULL, *ev = json_array();
    int rc = -1, version = 0;

    (void)out;
    for (size_t i = 0; ev && i < o->evidence.n; i++)
        if (json_array_append_new(ev, json_string(o->evidence.v[i])) != 0) {
            json_decref(ev);
            ev = NULL;
        }
    if (ev == NULL) {
        err_set(err, "out of memory");
    } else if (cli_stdin_json(&rec, err) == 0 &&
               registry_record_correct(s->db, s->actor, o->arg, rec, o->reason, ev, &version,
                                       err) == 0) {
        printf("%d\n", version);
        rc = 0;
    }
    json_decref(ev);
    json_decref(rec);
    return rc;
}

/* The rows of record_signed's table (below). */
enum { R_DRAFT, R_VERIFY, R_REGISTER, R_CORRECT, R_SHOW, R_HISTORY, R_LIST };

static int do_json(struct cli_session *s, const void *opts, json_t **out, struct err *err)
{
    const struct record_opts *o = opts;
    struct registry_record_filter f = { 0 };

    switch (o->what) {
    case R_REGISTER: return registry_record_register(s->db, s->actor, o->arg, out, err);
    case R_SHOW: return registry_record_show(s->db, s->actor, o->arg, (int)o->version, out, err);
    case R_HISTORY: return registry_record_history(s->db, s->actor, o->arg, out, err);
    default: break;
    }
    f.status = o->status;
    f.born_from = o->born_from;
    f.born_to = o->born_to;
    f.limit = (int)o->limit;
    f.offset = (int)o->offset;
    return registry_record_list(s->db, s->actor, &f, out, err);
}

/* The subcommands run as a signed-in user differ only by data: the
 * subcommand, whether it takes the record ID, the body. */
static const struct {
    const char *name;
    bool want_arg;
    cli_signed_fn body;
} record_subs[] = {
    [R_DRAFT] = { "draft", false, do_draft },
    [R_VERIFY] = { "verify", true, do_verify },
    [R_REGISTER] = { "register", true, do_json },
    [R_CORRECT] = { "correct", true, do_correct },
    [R_SHOW] = { "show", true, do_json },
    [R_HISTORY] = { "history", true, do_json },
    [R_LIST] = { "list", false, do_json },
};

static int record_signed(int argc, char **argv)
{
    int what = CLI_SUB_INDEX(record_subs, argv[0]);
    struct record_opts o;
    char cmd[32];

    if (what < 0)
        return cli_usage_error("record", "unknown command '%s'", argv[0]);
    PARSE(record_subs[what].name, record_subs[what].want_arg);
    if (what == R_DRAFT && o.example) {
        json_t *ex = registry_record_example();
        int rc = ex ? cli_print_json(ex) : EXIT_FAIL;
        json_decref(ex);
        return rc;
    }
    if (what == R_CORRECT && o.reason == NULL)
        return cli_usage_error("record correct", "--reason is required");
    o.what = what;
    /* cannot truncate: the names are short constants */
    (void)snprintf(cmd, sizeof cmd, "record %s", record_subs[what].name);
    return cli_run_signed(cmd, &o.common, record_subs[what].body, &o);
}

/* Where the lines come from and what became of them. */
struct import_run {
    struct cli_session *s;
    struct registry_import_source src;
    bool dry_run;
    const struct err *parse_errs; /* why a line is not JSON */
    int added, already, refused;
};

/* One batch: draft in one transaction, then report every line. */
static int import_batch(struct import_run *r, json_t **recs, long *lines, size_t n,
                        struct err *err)
{
    char **ids = calloc(n, sizeof *ids);
    bool *already = calloc(n, sizeof *already);
    struct err *errs = calloc(n, sizeof *errs);
    int done, rc = -1;

    if (ids == NULL || already == NULL || errs == NULL) {
        err_set(err, "out of memory");
        goto out;
    }
    r->src.lines = lines;
    done = registry_record_import_batch(r->s->db, r->s->actor, &r->src, recs, n, ids, already,
                                        errs, err);
    if (done < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] && already[i]) {
            printf("already %ld %s\n", lines[i], ids[i]);
            r->already++;
        } else if (ids[i]) {
            printf("committed %ld %s\n", lines[i], ids[i]);
            r->added++;
        } else {
            printf("refused %ld: %s\n", lines[i],
                   recs[i] ? err_msg(&errs[i]) : err_msg(&r->parse_errs[i]));
            r->refused++;
        }
    }
    fflush(stdout);
    rc = 0;
out:
    for (size_t i = 0; ids && i < n; i++)
        free(ids[i]);
    free(ids);
    free(already);
    free(errs);
    return rc;
}

/* --dry-run: the same decisions, nothing stored. */
static int import_preview(struct import_run *r, json_t **recs, long *lines, size_t n,
                          struct err *err)
{
    for (size_t i = 0; i < n; i++) {
        struct err why = ERR_INIT;
        json_t *norm = NULL;
        char *id = NULL;
        int found = registry_record_import_lookup(r->s->db, r->src.file_hash, lines[i], &id, err);
        if (found < 0)
            return -1;
        if (found == 0) {
            printf("already %ld %s\n", lines[i], id);
            r->already++;
        } else if (recs[i] == NULL) {
            printf("refused %ld: %s\n", lines[i], err_msg(&r->parse_errs[i]));
            r->refused++;
        } else if (registry_record_normalize(recs[i], &norm, &why) != 0) {
            printf("refused %ld: %s\n", lines[i], err_msg(&why));
            r->refused++;
        } else {
            printf("would add %ld\n", lines[i]);
            r->added++;
        }
        json_decref(norm);
        free(id);
    }
    fflush(stdout);
    return 0;
}

/* One batch of FILE's lines: the records parsed (NULL: not JSON, PARSE_ERRS
 * says why) and their line numbers. */
struct import_lines {
    json_t **recs;
    long *lines;
    struct err *parse_errs;
    size_t n;
};

/* Reads FILE's lines, a batch at a time. */
struct import_reader {
    FILE *f;
    const char *path;
    char *buf; /* IMPORT_LINE_MAX bytes */
    long line; /* the last line read */
    size_t batch;
    bool eof;
    struct err err; /* why the last read failed */
};

/* B's records released (the batch before, once imported) and B filled with
 * the next lines of the file, at most RD->batch; RD->eof once the file has
 * no more. Returns 0, or -1 with RD->err set (a line too long, a read
 * error): B is then not to be imported. */
static int import_read(struct import_reader *rd, struct import_lines *b)
{
    for (size_t i = 0; i < b->n; i++) {
        json_decref(b->recs[i]);
        b->recs[i] = NULL;
    }
    b->n = 0;
    while (b->n < rd->batch && fgets(rd->buf, IMPORT_LINE_MAX, rd->f) != NULL) {
        size_t len = strlen(rd->buf), n = b->n;
        rd->line++;
        if (len == IMPORT_LINE_MAX - 1 && rd->buf[len - 1] != '\n')
            return err_set(&rd->err, "%s:%ld: line longer than %d bytes", rd->path, rd->line,
                           IMPORT_LINE_MAX);
        if (len <= 1)
            continue;
        b->lines[n] = rd->line;
        err_clear(&b->parse_errs[n]);
        if (json_parse(rd->buf, len, &b->recs[n], &b->parse_errs[n]) != 0) {
            b->recs[n] = NULL;
            err_prefix(&b->parse_errs[n], "not JSON");
        }
        b->n++;
    }
    if (b->n < rd->batch) {
        rd->eof = true;
        if (ferror(rd->f))
            return err_set(&rd->err, "%s: read error", rd->path);
    }
    return 0;
}

/* The two jobs run together: a batch imported (on the calling thread, which
 * holds the connection) while the file's next lines are read and parsed,
 * and the batch before's records freed, on a second thread. */
struct import_job {
    struct import_run *run;     /* importing; NULL: reading */
    struct import_reader *rd;   /* reading */
    struct import_lines *lines; /* what is imported, or read into */
    struct err err;             /* why the import failed */
    int rc;
};

static void *import_job_main(void *arg)
{
    struct import_job *j = arg;
    struct import_lines *b = j->lines;

    if (j->run == NULL) {
        j->rc = import_read(j->rd, b);
    } else {
        j->run->parse_errs = b->parse_errs;
        j->rc = j->run->dry_run ? import_preview(j->run, b->recs, b->lines, b->n, &j->err)
                                : import_batch(j->run, b->recs, b->lines, b->n, &j->err);
    }
    return NULL;
}

/* Every line of RD's file imported, a batch a transaction, the next batch
 * read while one is imported. Returns 0, or -1 with ERR set. */
static int import_all(struct import_run *run, struct import_reader *rd,
                      struct import_lines b[2], struct err *err)
{
    int cur = 0;

    if (import_read(rd, &b[0]) != 0)
        goto read_failed;
    while (b[cur].n > 0) {
        struct import_job jobs[2] = {
            { run, NULL, &b[cur], ERR_INIT, 0 },
            { NULL, rd, &b[1 - cur], ERR_INIT, 0 },
        };
        bool last = rd->eof;
        fanout_run(jobs, last ? 1 : 2, sizeof jobs[0], import_job_main);
        if (jobs[0].rc != 0) {
            *err = jobs[0].err;
            return -1;
        }
        if (last)
            break;
        if (jobs[1].rc != 0)
            goto read_failed;
        cur = 1 - cur;
    }
    return 0;
read_failed:
    *err = rd->err;
    return -1;
}

static int record_import(int argc, char **argv)
{
    struct record_opts o;
    struct cli_session s;
    struct err err = ERR_INIT;
    struct import_run run;
    struct import_reader rd = { 0 };
    struct import_lines b[2] = { { 0 } };
    size_t batch;
    char file_hash[65];
    int rc;

    PARSE("import", false);
    if (o.jsonl == NULL)
        return cli_usage_error("record import", "--jsonl FILE is required");
    /* a commit (fsync) and an FTS5 index segment per REGISTRY_IMPORT_BATCH drafts;
     * fewer segments are fewer look-ups for every later duplicate query */
    batch = o.batch > 0 ? (size_t)o.batch : REGISTRY_IMPORT_BATCH;
    if ((rc = cli_sign_in("record import", &o.common, &s)) != 0)
        return rc;
    memset(&run, 0, sizeof run);
    run.s = &s;
    run.dry_run = o.dry_run;
    run.src.file_hash = file_hash;
    rd.f = fopen(o.jsonl, "r");
    rd.path = o.jsonl;
    rd.batch = batch;
    rd.buf = malloc(IMPORT_LINE_MAX);
    for (int k = 0; k < 2; k++) {
        b[k].recs = calloc(batch, sizeof *b[k].recs);
        b[k].lines = calloc(batch, sizeof *b[k].lines);
        b[k].parse_errs = calloc(batch, sizeof *b[k].parse_errs);
    }
    if (rd.f == NULL) {
        err_set(&err, "%s: %s", o.jsonl, strerror(errno));
        rc = cli_fail("record import", &err);
        goto out;
    }
    if (rd.buf == NULL || b[0].recs == NULL || b[0].lines == NULL || b[0].parse_errs == NULL ||
        b[1].recs == NULL || b[1].lines == NULL || b[1].parse_errs == NULL) {
        err_set(&err, "out of memory");
        rc = cli_fail("record import", &err);
        goto out;
    }
    /* The file's identity keys every line: hashed first, then read again. */
    if (registry_file_sha256(rd.f, file_hash, &err) != 0 || fseek(rd.f, 0, SEEK_SET) != 0) {
        err_prefix(&err, "%s", o.jsonl);
        rc = cli_fail("record import", &err);
        goto out;
    }
    if (import_all(&run, &rd, b, &err) != 0) {
        rc = cli_fail("record import", &err);
        goto out;
    }
    fprintf(stderr, "civreg record import: %s%d added, %d already imported, %d refused (%s)\n",
            run.dry_run ? "dry run, would be " : "", run.added, run.already, run.refused,
            file_hash);
    rc = run.refused ? EXIT_FAIL : EXIT_OK;
out:
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; b[k].recs && i < b[k].n; i++)
            json_decref(b[k].recs[i]);
        free(b[k].recs);
        free(b[k].lines);
        free(b[k].parse_errs);
    }
    free(rd.buf);
    if (rd.f)
        fclose(rd.f);
    cli_session_close(&s);
    return rc;
}
