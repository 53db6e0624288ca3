/* civreg national tier: what offices ask — a person from any office as an
 * offline-verifiable bundle, national search, cross-district duplicate
 * cases, blocks of national UINs. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/encode.h"
#include "core/json.h"
#include "national_int.h"

static json_t *proof_json(const merkle_hash *p, size_t n)
{
    json_t *a = json_array();
    char h[65];

    for (size_t i = 0; a && i < n; i++) {
        hex_encode(p[i], 32, h);
        (void)json_array_append_new(a, json_string(h));
    }
    return a;
}

/* A version row of the record CTX names (its id). */
static json_t *version_row(const struct pg_res *r, int i, void *ctx)
{
    return json_pack("{s:s, s:I, s:s, s:s}", "record_id", (const char *)ctx, "version",
                     (json_int_t)strtoll(pg_res_value(r, i, 0), NULL, 10), "hash",
                     pg_res_value(r, i, 1), "data", pg_res_value(r, i, 2));
}

static json_t *document_row(const struct pg_res *r, int i, void *ctx)
{
    (void)ctx;
    return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?}", "office", pg_res_value(r, i, 0),
                     "number", pg_res_value(r, i, 1), "status", pg_res_value(r, i, 2),
                     "status_reason", pg_res_null(r, i, 3) ? NULL : pg_res_value(r, i, 3),
                     "date_of_issue", pg_res_null(r, i, 4) ? NULL : pg_res_value(r, i, 4),
                     "date_of_expiry", pg_res_null(r, i, 5) ? NULL : pg_res_value(r, i, 5));
}

enum national_refusal national_person(struct pg *pg, const char *uin, json_t **out,
                                      struct err *err)
{
    struct pg_res *pr = NULL, *or = NULL, *er = NULL, *dr = NULL;
    merkle_hash *leaves = NULL;
    json_t *b = NULL, *events = NULL, *versions = NULL, *links = NULL, *death = NULL;
    json_t *documents = NULL;
    enum national_refusal rc = NATIONAL_INTERNAL;
    const char *p[3];
    uint64_t size;
    const char *office, *record_id;
    char like[40];

    *out = NULL;
    if (registry_uin_check(uin, NULL) != 0) {
        err_set(err, "person: '%s' is not a valid UIN", uin);
        return NATIONAL_BAD_REQUEST;
    }
    p[0] = uin;
    if (pg_exec(pg,
                "SELECT office, record_id, registration_number, link_statement, link_signature,"
                " link_signer FROM persons WHERE uin = $1",
                1, p, &pr, err) != 0)
        goto out;
    if (pg_res_rows(pr) != 1) {
        err_set(err, "person %s: not known to the national tier", uin);
        rc = NATIONAL_NOT_FOUND;
        goto out;
    }
    office = pg_res_value(pr, 0, 0);
    record_id = pg_res_value(pr, 0, 1);
    p[0] = office;
    if (pg_exec(pg,
                "SELECT tree_size, head_body, head_signature, public_key, root_hash FROM offices"
                " WHERE office = $1",
                1, p, &or, err) != 0 || pg_res_rows(or) != 1)
        goto out;
    size = strtoull(pg_res_value(or, 0, 0), NULL, 10);
    (void)snprintf(like, sizeof like, "%s:%%", uin);
    p[0] = office, p[1] = record_id, p[2] = uin;
    if (pg_exec(pg,
                "SELECT e.seq, e.body, e.signature FROM events e WHERE e.office = $1 AND"
                " (e.type IN ('user.add', 'user.key') OR e.seq IN (SELECT o.seq FROM"
                " event_objects o WHERE o.office = $1 AND ((o.kind = 'record' AND o.id = $2)"
                " OR (o.kind = 'person' AND o.id = $3))))"
                " ORDER BY e.seq",
                3, p, &er, err) != 0)
        goto out;
    if (nat_load_leaves(pg, office, size, &leaves, err) != 0)
        goto out;
    if ((events = json_array()) == NULL || (links = json_array()) == NULL)
        goto oom;
    for (int i = 0; i < pg_res_rows(er); i++) {
        merkle_hash path[MERKLE_MAX_PROOF];
        struct merkle_mem mem = { (const merkle_hash *)leaves, size };
        struct merkle_source src;
        uint64_t seq = strtoull(pg_res_value(er, i, 0), NULL, 10);
        size_t n = 0;
        merkle_mem_source(&mem, &src);
        if (merkle_inclusion_proof(&src, seq, size, path, &n, err) != 0)
            goto out;
        if (json_array_append_new(events,
                                  json_pack("{s:I, s:s, s:s, s:o}", "seq", (json_int_t)seq,
                                            "body", pg_res_value(er, i, 1), "signature",
                                            pg_res_value(er, i, 2), "inclusion_proof",
                                            proof_json(path, n))) != 0)
            goto oom;
    }
    p[0] = office, p[1] = record_id;
    if (nat_query_rows(pg,
                       "SELECT version, hash, data FROM record_versions WHERE office = $1 AND"
                       " record_id = $2 ORDER BY version",
                       2, p, version_row, (void *)record_id, &versions, err) != 0)
        goto out;
    if (json_array_append_new(links, json_pack("{s:s, s:s, s:s}", "statement",
                                               pg_res_value(pr, 0, 3), "signature",
                                               pg_res_value(pr, 0, 4), "signer",
                                               pg_res_value(pr, 0, 5))) != 0)
        goto oom;
    p[0] = uin;
    if (pg_exec(pg,
                "SELECT office, id, registration_number, date_of_death FROM deaths WHERE uin = $1",
                1, p, &dr, err) != 0)
        goto out;
    /* the travel documents of this person in every office, not only the
     * one holding the birth: information beside the signed evidence */
    if (nat_query_rows(pg,
                       "SELECT office, number, status, status_reason, date_of_issue,"
                       " date_of_expiry FROM documents WHERE uin = $1 ORDER BY office, number",
                       1, p, document_row, NULL, &documents, err) != 0)
        goto out;
    if (pg_res_rows(dr) > 0)
        death = json_pack("{s:s, s:s, s:s, s:s}", "office", pg_res_value(dr, 0, 0), "id",
                          pg_res_value(dr, 0, 1), "registration_number", pg_res_value(dr, 0, 2),
                          "date_of_death", pg_res_value(dr, 0, 3));
    b = json_pack("{s:s, s:{s:s, s:s, s:I, s:s}, s:O, s:O, s:O,"
                  " s:{s:s, s:s, s:s, s:s, s:s, s:b, s:O?, s:O}}",
                  "format", "civreg.bundle.v1", "tree_head", "body", pg_res_value(or, 0, 1),
                  "signature", pg_res_value(or, 0, 2), "tree_size", (json_int_t)size, "root_hash", pg_res_value(or, 0, 4), "events", events, "record_versions",
                  versions, "links", links, "national", "office", office, "office_key",
                  pg_res_value(or, 0, 3), "uin", uin, "record_id", record_id,
                  "registration_number", pg_res_value(pr, 0, 2), "deceased", death != NULL,
                  "death", death, "documents", documents);
    if (b == NULL)
        goto oom;
    *out = b;
    rc = NATIONAL_OK;
    goto out;
oom:
    err_set(err, "out of memory");
out:
    free(leaves);
    json_decref(events);
    json_decref(versions);
    json_decref(links);
    json_decref(death);
    json_decref(documents);
    pg_res_free(pr);
    pg_res_free(or);
    pg_res_free(er);
    pg_res_free(dr);
    return rc;
}

static json_t *search_row(const struct pg_res *r, int i, void *ctx)
{
    (void)ctx;
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:b}", "office", pg_res_value(r, i, 0),
                     "record_id", pg_res_value(r, i, 1), "uin", pg_res_value(r, i, 2),
                     "registration_number", pg_res_value(r, i, 3), "name", pg_res_value(r, i, 4),
                     "birth_date", pg_res_value(r, i, 5), "score",
                     strtod(pg_res_value(r, i, 6), NULL), "deceased",
                     strcmp(pg_res_value(r, i, 7), "t") == 0);
}

/* The records whose name key is most similar to QUERY's (pg_trgm
 * similarity of the whole keys, best first, then by office and record),
 * among the keys that hold, for some word of the query, one of the
 * NAT_SEARCH_WORDS words of the nation's names most similar to it (the
 * word itself when it is known: a misspelt or phonetically written word
 * finds the words it resembles). The words are looked up in name_vocab (a
 * vocabulary of tens of thousands of words, its trigram index cheap at any
 * number of records), the keys holding them in the name_words b-tree, and
 * the records of the best keys by the (name_key, birth_date) b-tree of
 * birth_records. Before schema 7 the trigram index of the whole keys was
 * asked, and it handed over every key sharing a third of the query's
 * trigrams whatever its length (about 10,000 for a given name at 500,000
 * records). */
int national_search(struct pg *pg, const char *query, int limit, json_t **out, struct err *err)
{
    char *key = nat_name_key(query, ""), lim[16];
    const char *p[2];
    int rc;

    *out = NULL;
    if (key == NULL)
        return err_oom(err);
    /* the key of "GIVEN FAMILY" with an empty family ends with a blank */
    for (size_t n = strlen(key); n > 0 && key[n - 1] == ' '; n--)
        key[n - 1] = '\0';
    if (*key == '\0') {
        free(key);
        return err_set(err, "search: the query has no letters to search by");
    }
    (void)snprintf(lim, sizeof lim, "%d", limit > 0 && limit <= 1000 ? limit : 20);
    p[0] = key, p[1] = lim;
    rc = nat_query_rows(pg,
                        "SELECT b.office, b.record_id, coalesce(b.uin, ''),"
                        " coalesce(b.registration_number, ''), b.name_key, b.birth_date,"
                        " k.s, EXISTS (SELECT 1 FROM deaths d WHERE d.uin = b.uin)"
                        " FROM (SELECT c.name_key, similarity(c.name_key, $1) AS s"
                        " FROM (SELECT DISTINCT nw.name_key FROM name_key_words($1) q(w)"
                        " CROSS JOIN LATERAL (SELECT word FROM name_vocab WHERE word % q.w"
                        " ORDER BY similarity(word, q.w) DESC, word"
                        " LIMIT " NAT_SEARCH_WORDS_SQL ") v"
                        " JOIN name_words nw ON nw.word = v.word) c"
                        " ORDER BY s DESC, c.name_key OFFSET 0) k"
                        " CROSS JOIN LATERAL (SELECT * FROM birth_records b"
                        " WHERE b.name_key = k.name_key) b"
                        " ORDER BY k.s DESC, b.office, b.record_id LIMIT $2::int",
                        2, p, search_row, NULL, out, err);
    free(key);
    return rc;
}

int national_duplicates(struct pg *pg, json_t **out, struct err *err)
{
    return national_duplicates_of(pg, NULL, out, err);
}

/* Column COL of row I parsed as JSON, or an empty FALLBACK. */
static json_t *json_col(const struct pg_res *r, int i, int col, bool array)
{
    json_t *v = NULL;
    if (json_parse(pg_res_value(r, i, col), strlen(pg_res_value(r, i, col)), &v, NULL) != 0)
        v = array ? json_array() : json_object();
    return v;
}

static json_t *dup_case_row(const struct pg_res *r, int i, void *ctx)
{
    json_t *res = json_col(r, i, 12, true);

    (void)ctx;
    return json_pack("{s:o, s:o, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}",
                     "a", json_col(r, i, 13, false), "b", json_col(r, i, 14, false), "id",
                     (json_int_t)strtoll(pg_res_value(r, i, 0), NULL, 10), "office_a",
                     pg_res_value(r, i, 1), "record_a", pg_res_value(r, i, 2), "office_b",
                     pg_res_value(r, i, 3), "record_b", pg_res_value(r, i, 4), "why",
                     pg_res_value(r, i, 5), "status", pg_res_value(r, i, 6), "opened_at",
                     pg_res_value(r, i, 7), "name", pg_res_value(r, i, 8), "birth_date",
                     pg_res_value(r, i, 9), "uin_a", pg_res_value(r, i, 11), "uin_b",
                     pg_res_value(r, i, 10), "resolutions", res);
}

/* One record of a case as the registrars compare it: the latest version's
 * names, sex, birth and place (R the birth_records row, V its version). */
#define DUP_SIDE(R, V)                                                                          \
    "coalesce((SELECT jsonb_build_object('registration_number', " R ".registration_number,"     \
    " 'uin', " R ".uin, 'status', " R ".status, 'version', " R ".version,"                    \
    " 'given_names', d #>> '{child,given_names}', 'family_name', d #>> '{child,family_name}',"  \
    " 'sex', d #>> '{child,sex}', 'birth_date', d #>> '{birth,date}',"                         \
    " 'facility', d #>> '{birth,facility}', 'locality', d #>> '{birth,locality}',"             \
    " 'district', d #>> '{birth,district}',"                                                    \
    " 'mother', concat_ws(' ', d #>> '{mother,given_names}', d #>> '{mother,family_name}'),"    \
    " 'father', concat_ws(' ', d #>> '{father,given_names}', d #>> '{father,family_name}'))"    \
    " FROM (SELECT " V ".data::jsonb AS d) x WHERE " V ".data IS NOT NULL)::text, '{}')"

int national_duplicates_of(struct pg *pg, const char *office, json_t **out, struct err *err)
{
    const char *p[1] = { office ? office : "" };

    /* each case with the records' names and births, and the signed
     * national.duplicate events that resolved it (office, seq) */
    return nat_query_rows(
        pg,
        "SELECT c.id, c.office_a, c.record_a, c.office_b, c.record_b, c.why, c.status,"
        " c.opened_at::text, coalesce(ra.name_key, ''), coalesce(ra.birth_date, ''),"
        " coalesce(rb.uin, ''), coalesce(ra.uin, ''),"
        " coalesce((SELECT jsonb_agg(jsonb_build_object('office', o.office, 'seq', o.seq)"
        "   ORDER BY o.office, o.seq)::text FROM event_objects o WHERE o.kind = 'dup_case'"
        "   AND o.id = c.office_a || '/' || c.record_a || '|' || c.office_b || '/' ||"
        "   c.record_b), '[]'),"
        " " DUP_SIDE("ra", "va") ", " DUP_SIDE("rb", "vb")
        " FROM dup_cases c"
        " LEFT JOIN birth_records ra ON ra.office = c.office_a AND ra.record_id = c.record_a"
        " LEFT JOIN birth_records rb ON rb.office = c.office_b AND rb.record_id = c.record_b"
        " LEFT JOIN record_versions va ON va.office = ra.office AND va.record_id = ra.record_id"
        "   AND va.version = ra.version"
        " LEFT JOIN record_versions vb ON vb.office = rb.office AND vb.record_id = rb.record_id"
        "   AND vb.version = rb.version"
        " WHERE $1 = '' OR $1 IN (c.office_a, c.office_b) ORDER BY c.id",
        1, p, dup_case_row, NULL, out, err);
}

enum national_refusal national_uin_block(struct pg *pg, const char *office, int count,
                                         json_t **out, struct err *err)
{
    json_t *a = NULL;
    char block[24];
    int got = 0, tries = 0;

    *out = NULL;
    if (count < 1 || count > 10000) {
        err_set(err, "uin block: 1 to 10000 UINs per block");
        return NATIONAL_BAD_REQUEST;
    }
    if ((a = json_array()) == NULL)
        return NATIONAL_INTERNAL;
    (void)snprintf(block, sizeof block, "%lld", (long long)time(NULL));
    /* the candidates go in by one INSERT per round (an array of fresh random
     * UINs): the primary key on uin makes a UIN national, whoever asks at the
     * same time, and ON CONFLICT DO NOTHING skips any already held (or drawn
     * twice); another round draws for the missing ones. One transaction (one
     * durable commit) for the block. */
    if (pg_begin(pg, err) != 0) {
        json_decref(a);
        return NATIONAL_INTERNAL;
    }
    while (got < count && tries++ < 8) {
        struct buf arr = BUF_INIT((size_t)12 * 10000 + 16);
        struct pg_res *r = NULL;
        const char *p[3] = { NULL, office, block };
        int ok = buf_append_byte(&arr, '{') == 0;
        for (int k = 0; ok && k < count - got; k++) {
            char uin[REGISTRY_UIN_LEN + 1];
            registry_uin_generate(uin);
            ok = (k == 0 || buf_append_byte(&arr, ',') == 0) && buf_append_str(&arr, uin) == 0;
        }
        ok = ok && buf_append_byte(&arr, '}') == 0;
        p[0] = buf_str(&arr);
        if (!ok ||
            pg_exec(pg,
                    "INSERT INTO uins(uin, office, state, block_id)"
                    " SELECT u, $2, 'reserved', $3 FROM unnest($1::text[]) u"
                    " ON CONFLICT DO NOTHING RETURNING uin",
                    3, p, &r, err) != 0) {
            if (!ok)
                err_set(err, "uin block: out of memory");
            buf_release(&arr);
            pg_rollback(pg);
            json_decref(a);
            return NATIONAL_INTERNAL;
        }
        for (int k = 0; k < pg_res_rows(r) && got < count; k++, got++)
            (void)json_array_append_new(a, json_string(pg_res_value(r, k, 0)));
        pg_res_free(r);
        buf_release(&arr);
    }
    if (pg_commit(pg, err) != 0) {
        pg_rollback(pg);
        json_decref(a);
        return NATIONAL_INTERNAL;
    }
    *out = json_pack("{s:s, s:s, s:o}", "office", office, "block", block, "uins", a);
    return *out ? NATIONAL_OK : NATIONAL_INTERNAL;
}

static json_t *death_row(const struct pg_res *r, int i, void *ctx)
{
    (void)ctx;
    return json_pack("{s:s, s:s, s:s, s:s, s:I}", "office", pg_res_value(r, i, 0), "uin",
                     pg_res_value(r, i, 1), "registration_number", pg_res_value(r, i, 2),
                     "date_of_death", pg_res_value(r, i, 3), "event_seq",
                     (json_int_t)strtoll(pg_res_value(r, i, 4), NULL, 10));
}

int national_deaths_since(struct pg *pg, const json_t *cursors, int limit, json_t **out,
                          struct err *err)
{
    struct buf cb = BUF_INIT(1 << 20);
    json_t *a = NULL, *empty = NULL;
    char lim[16];
    const char *p[2];
    int rc = -1;

    *out = NULL;
    if (cursors != NULL && !json_is_object(cursors))
        return err_set(err, "deaths: cursors must be an object {office: last event seq}");
    if (cursors == NULL && (cursors = empty = json_object()) == NULL)
        return err_set(err, "out of memory");
    if (json_dump_compact(cursors, &cb, err) != 0)
        goto out;
    (void)snprintf(lim, sizeof lim, "%d", limit > 0 && limit <= 10000 ? limit : 5000);
    p[0] = buf_str(&cb), p[1] = lim;
    /* per office, the deaths after the last event the district holds */
    if (nat_query_rows(pg,
                       "SELECT office, uin, registration_number, date_of_death, event_seq FROM"
                       " deaths WHERE event_seq > coalesce(($1::jsonb ->> office)::bigint, -1)"
                       " ORDER BY office, event_seq LIMIT $2::int",
                       2, p, death_row, NULL, &a, err) != 0)
        goto out;
    rc = json_out(out, json_pack("{s:o}", "deaths", a), err);
out:
    json_decref(empty);
    buf_release(&cb);
    return rc;
}
