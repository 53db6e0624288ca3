/* civreg national tier: the store (schema, offices, status) and helpers. */
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/utf8.h"
#include "db/datadir.h"
#include "national_int.h"
#include "registry/search.h"

bool nat_office_ok(const char *s)
{
    return datadir_check_office_code(s, NULL) == 0;
}

const char *nat_str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

char *nat_name_key(const char *given, const char *family)
{
    struct buf b = BUF_INIT(4096);
    char *s;

    if (registry_name_fold(given, strlen(given), &b, NULL) != 0 || buf_append_byte(&b, ' ') != 0 ||
        registry_name_fold(family, strlen(family), &b, NULL) != 0) {
        buf_release(&b);
        return strdup("");
    }
    s = strdup(buf_str(&b));
    buf_release(&b);
    /* one blank between words, none at the ends */
    if (s) {
        size_t o = 0;
        for (size_t i = 0; s[i]; i++)
            if (s[i] != ' ' || (o > 0 && s[o - 1] != ' '))
                s[o++] = s[i];
        while (o > 0 && s[o - 1] == ' ')
            o--;
        s[o] = '\0';
    }
    return s;
}

int nat_load_leaves(struct pg *pg, const char *office, uint64_t size, merkle_hash **leaves,
                    struct err *err)
{
    struct pg_res *r = NULL;
    char sz[24];
    const char *p[2] = { office, sz };
    int rc = -1;

    *leaves = NULL;
    (void)snprintf(sz, sizeof sz, "%llu", (unsigned long long)size);
    if (pg_exec(pg, "SELECT seq, leaf_hash FROM events WHERE office = $1 AND seq < $2 ORDER BY seq",
                2, p, &r, err) != 0)
        return -1;
    if ((uint64_t)pg_res_rows(r) != size) {
        err_set(err, "national: office %s has %d stored events, its head says %llu", office,
                pg_res_rows(r), (unsigned long long)size);
        goto out;
    }
    if ((*leaves = malloc((size ? size : 1) * sizeof **leaves)) == NULL) {
        err_set(err, "out of memory");
        goto out;
    }
    for (int i = 0; i < pg_res_rows(r); i++)
        if (reg_hex32(pg_res_value(r, i, 1), (*leaves)[i], "leaf", err) != 0)
            goto out;
    rc = 0;
out:
    if (rc != 0) {
        free(*leaves);
        *leaves = NULL;
    }
    pg_res_free(r);
    return rc;
}

int national_init(const char *pg_url, int *version, struct err *err)
{
    struct pg *pg = NULL;
    int rc;

    if (pg_open(pg_url, &pg, err) != 0)
        return -1;
    rc = pg_migrate(pg, version, err);
    pg_close(pg);
    return rc;
}

static int office_check(const char *office, struct err *err)
{
    if (!nat_office_ok(office))
        return err_set(err, "office: '%s' is not an office code (2 to 8 of A-Z 0-9)",
                       office ? office : "");
    return 0;
}

/* S: 1 to MAX bytes of UTF-8. */
static bool text_ok(const char *s, size_t max)
{
    return s != NULL && *s != '\0' && strlen(s) <= max && utf8_valid(s, strlen(s));
}

int national_office_add(struct pg *pg, const char *office, const char *key_hex, struct err *err)
{
    unsigned char pk[32];
    merkle_hash empty;
    char root[65];
    struct pg_res *r = NULL;
    const char *p[3] = { office, key_hex, root };
    int rc = -1;

    if (office_check(office, err) != 0)
        return -1;
    if (key_hex == NULL || strlen(key_hex) != 64 || reg_hex32(key_hex, pk, "office key", err) != 0)
        return err_set(err, "office key: 64 hex digits expected (see `civreg audit head`)");
    merkle_empty_root(empty);
    hex_encode(empty, 32, root);
    if (pg_exec(pg,
                "INSERT INTO offices(office, public_key, root_hash) VALUES ($1, lower($2), $3)"
                " ON CONFLICT (office) DO NOTHING",
                3, p, NULL, err) != 0 ||
        pg_exec(pg, "SELECT public_key FROM offices WHERE office = $1", 1, p, &r, err) != 0)
        return -1;
    if (pg_res_rows(r) != 1 || strcasecmp(pg_res_value(r, 0, 0), key_hex) != 0)
        err_set(err, "office %s is registered with another key: the national tier refuses to "
                     "replace it", office);
    else
        rc = 0;
    pg_res_free(r);
    return rc;
}

int nat_query_rows(struct pg *pg, const char *sql, int n, const char *const *p, nat_row_fn row,
                   void *ctx, json_t **out, struct err *err)
{
    struct pg_res *r = NULL;
    json_t *a;

    *out = NULL;
    if (pg_exec(pg, sql, n, p, &r, err) != 0)
        return -1;
    a = json_array();
    for (int i = 0; a != NULL && i < pg_res_rows(r); i++)
        if (json_array_append_new(a, row(r, i, ctx)) != 0) {
            json_decref(a);
            a = NULL;
        }
    pg_res_free(r);
    return json_out(out, a, err);
}

int national_fork_clear(struct pg *pg, const char *office, const char *by, const char *reason,
                        long *cleared, struct err *err)
{
    struct pg_res *r = NULL, *u = NULL;
    const char *p[3] = { office, by, reason };
    int rc = -1;

    *cleared = 0;
    if (office_check(office, err) != 0)
        return -1;
    if (!text_ok(by, 64))
        return err_set(err, "fork clear: the operator's name (1 to 64 bytes of UTF-8) is "
                            "required");
    if (!text_ok(reason, 500))
        return err_set(err, "fork clear: a reason (1 to 500 bytes of UTF-8) is required");
    if (pg_begin(pg, err) != 0 ||
        pg_exec(pg, "SELECT fork_alarm FROM offices WHERE office = $1 FOR UPDATE", 1, p, &r,
                err) != 0)
        goto out;
    if (pg_res_rows(r) != 1) {
        err_set(err, "office %s is not registered", office);
    } else if (strcmp(pg_res_value(r, 0, 0), "t") != 0) {
        err_set(err, "office %s has no fork alarm", office);
    } else if (pg_exec(pg, "UPDATE offices SET fork_alarm = false WHERE office = $1", 1, p, NULL,
                       err) == 0 &&
               pg_exec(pg,
                       "UPDATE forks SET cleared_at = now(), cleared_by = $2, clear_reason = $3"
                       " WHERE office = $1 AND cleared_at IS NULL",
                       3, p, &u, err) == 0) {
        *cleared = (long)pg_res_affected(u);
        rc = pg_commit(pg, err);
    }
out:
    if (rc != 0)
        pg_rollback(pg);
    pg_res_free(r);
    pg_res_free(u);
    return rc;
}

int national_head(struct pg *pg, const char *office, json_t **out, struct err *err)
{
    struct pg_res *r = NULL;
    const char *p[1] = { office };
    int rc = -1;

    *out = NULL;
    if (pg_exec(pg, "SELECT tree_size, root_hash, fork_alarm FROM offices WHERE office = $1", 1,
                p, &r, err) != 0)
        return -1;
    if (pg_res_rows(r) == 1) {
        rc = json_out(out,
                      json_pack("{s:s, s:I, s:s, s:b}", "office", office, "tree_size",
                                (json_int_t)strtoll(pg_res_value(r, 0, 0), NULL, 10), "root_hash",
                                pg_res_value(r, 0, 1), "fork_alarm",
                                strcmp(pg_res_value(r, 0, 2), "t") == 0),
                      err);
    } else {
        err_set(err, "office %s is not registered", office);
    }
    pg_res_free(r);
    return rc;
}

int national_status(struct pg *pg, json_t **out, struct err *err)
{
    struct pg_res *r = NULL, *f = NULL, *u = NULL;
    json_t *offices = json_array();
    bool standby = false;
    int rc = -1;

    *out = NULL;
    if (offices == NULL)
        return err_set(err, "out of memory");
    if (pg_in_recovery(pg, &standby, err) != 0 ||
        pg_exec(pg,
                "SELECT office, tree_size, root_hash, coalesce(last_push_at::text, ''),"
                " coalesce(extract(epoch FROM now() - last_push_at)::bigint, -1), fork_alarm"
                " FROM offices ORDER BY office",
                0, NULL, &r, err) != 0 ||
        pg_exec(pg,
                "SELECT office, coalesce(position, -1), accepted_size, district_size, detail,"
                " detected_at::text, cleared_at::text, cleared_by, clear_reason FROM forks"
                " ORDER BY id",
                0, NULL, &f, err) != 0 ||
        /* each refused UIN once, first seen (a refused push is retried) */
        pg_exec(pg,
                "SELECT office, uin, record_id, held_by, min(detected_at)::text"
                " FROM uin_collisions GROUP BY office, uin, record_id, held_by"
                " ORDER BY min(detected_at)",
                0, NULL, &u, err) != 0)
        goto out;
    for (int i = 0; i < pg_res_rows(r); i++) {
        json_t *forks = json_array();
        for (int k = 0; k < pg_res_rows(f); k++) {
            long long pos;
            if (strcmp(pg_res_value(f, k, 0), pg_res_value(r, i, 0)) != 0)
                continue;
            pos = strtoll(pg_res_value(f, k, 1), NULL, 10);
            (void)json_array_append_new(
                forks,
                json_pack("{s:o, s:I, s:I, s:s, s:s, s:s?, s:s?, s:s?}", "position",
                          pos >= 0 ? json_integer(pos) : json_null(), "accepted_size",
                          (json_int_t)strtoll(pg_res_value(f, k, 2), NULL, 10), "district_size",
                          (json_int_t)strtoll(pg_res_value(f, k, 3), NULL, 10), "detail",
                          pg_res_value(f, k, 4), "detected_at", pg_res_value(f, k, 5),
                          "cleared_at", pg_res_null(f, k, 6) ? NULL : pg_res_value(f, k, 6),
                          "cleared_by", pg_res_null(f, k, 7) ? NULL : pg_res_value(f, k, 7),
                          "clear_reason", pg_res_null(f, k, 8) ? NULL : pg_res_value(f, k, 8)));
        }
        json_t *coll = json_array();
        for (int k = 0; k < pg_res_rows(u); k++)
            if (strcmp(pg_res_value(u, k, 0), pg_res_value(r, i, 0)) == 0)
                (void)json_array_append_new(
                    coll, json_pack("{s:s, s:s, s:s, s:s}", "uin", pg_res_value(u, k, 1),
                                    "record_id", pg_res_value(u, k, 2), "held_by",
                                    pg_res_value(u, k, 3), "detected_at", pg_res_value(u, k, 4)));
        long long lag = strtoll(pg_res_value(r, i, 4), NULL, 10);
        (void)json_array_append_new(
            offices,
            json_pack("{s:s, s:I, s:s, s:s?, s:o, s:b, s:o, s:o}", "office", pg_res_value(r, i, 0),
                      "tree_size", (json_int_t)strtoll(pg_res_value(r, i, 1), NULL, 10),
                      "root_hash", pg_res_value(r, i, 2), "last_push_at",
                      *pg_res_value(r, i, 3) ? pg_res_value(r, i, 3) : NULL, "lag_seconds",
                      lag >= 0 ? json_integer(lag) : json_null(), "fork_alarm",
                      strcmp(pg_res_value(r, i, 5), "t") == 0, "forks", forks, "uin_collisions",
                      coll));
    }
    rc = json_out(out,
                  json_pack("{s:s, s:O}", "server", standby ? "standby" : "primary", "offices",
                            offices),
                  err);
out:
    json_decref(offices);
    pg_res_free(r);
    pg_res_free(f);
    pg_res_free(u);
    return rc;
}
