/* civreg registry: the fields of a birth record, after the UN Principles and
 * Recommendations for a Vital Statistics System (Rev. 3, topics for live
 * births): child, event of birth, parents, informant, registration. The JSON
 * is documented in docs/registry.md; this file validates and normalizes it
 * (Unicode NFC, no control characters, partial dates) so that two keyings of
 * the same page produce the same bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "registry_int.h"

enum ftype { F_TEXT, F_DATE_PARTIAL, F_DATE, F_TIME, F_ENUM, F_INT, F_BOOL, F_COUNTRY, F_HASHES };

struct field {
    const char *name;
    enum ftype type;
    bool required;
    int max; /* F_TEXT: bytes; F_INT: largest value */
    const char *const *values; /* F_ENUM */
    const char *deflt;         /* F_ENUM/F_BOOL default when absent */
};

static const char *const sexes[] = { "female", "male", "not_stated", NULL };
static const char *const place_types[] = { "facility", "home", "other", NULL };
static const char *const birth_types[] = { "single", "twin", "triplet", "quadruplet", "other",
                                           NULL };

static const struct field child_fields[] = {
    { "given_names", F_TEXT, true, 200, NULL, NULL },
    { "family_name", F_TEXT, true, 200, NULL, NULL },
    { "sex", F_ENUM, true, 0, sexes, NULL },
    { NULL, 0, 0, 0, NULL, NULL },
};
static const struct field birth_fields[] = {
    { "date", F_DATE_PARTIAL, true, 0, NULL, NULL },
    { "time", F_TIME, false, 0, NULL, NULL },
    { "place_type", F_ENUM, true, 0, place_types, NULL },
    { "facility", F_TEXT, false, 200, NULL, NULL },
    { "locality", F_TEXT, true, 200, NULL, NULL },
    { "district", F_TEXT, true, 200, NULL, NULL },
    { "type", F_ENUM, false, 0, birth_types, "single" },
    { "order", F_INT, false, 9, NULL, NULL },
    { NULL, 0, 0, 0, NULL, NULL },
};
static const struct field parent_fields[] = {
    { "given_names", F_TEXT, true, 200, NULL, NULL },
    { "family_name", F_TEXT, true, 200, NULL, NULL },
    { "date_of_birth", F_DATE_PARTIAL, false, 0, NULL, NULL },
    { "nationality", F_COUNTRY, false, 0, NULL, NULL },
    { "residence", F_TEXT, false, 400, NULL, NULL },
    { "id_number", F_TEXT, false, 64, NULL, NULL },
    { NULL, 0, 0, 0, NULL, NULL },
};
static const struct field informant_fields[] = {
    { "name", F_TEXT, true, 200, NULL, NULL },
    { "relationship", F_TEXT, false, 100, NULL, NULL },
    { "address", F_TEXT, false, 400, NULL, NULL },
    { NULL, 0, 0, 0, NULL, NULL },
};
static const struct field register_fields[] = {
    { "office", F_TEXT, true, 8, NULL, NULL },
    { "year", F_INT, true, 9999, NULL, NULL },
    { "volume", F_TEXT, true, 32, NULL, NULL },
    { "page", F_INT, true, 100000, NULL, NULL },
    { "entry", F_INT, true, 100000, NULL, NULL },
    { NULL, 0, 0, 0, NULL, NULL },
};
static const struct field top_fields[] = {
    { "registration_date", F_DATE, false, 0, NULL, NULL },
    { "late_registration", F_BOOL, false, 0, NULL, "false" },
    { "remarks", F_TEXT, false, 2000, NULL, NULL },
    { "evidence", F_HASHES, false, 64, NULL, NULL },
    { NULL, 0, 0, 0, NULL, NULL },
};

struct section {
    const char *name;
    bool required;
    const struct field *fields;
};

static const struct section sections[] = {
    { "child", true, child_fields },         { "birth", true, birth_fields },
    { "mother", true, parent_fields },       { "father", false, parent_fields },
    { "informant", false, informant_fields }, { "register", true, register_fields },
    { NULL, false, NULL },
};

/* Whether S is printable ASCII only (most fields): its NFC form is itself
 * and it holds no control, invisible or reordering character, so it needs
 * neither the normalization nor the printable check (a tenth of `record
 * import`, every text field of every draft). */
static bool printable_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* The NFC form of S (*N, *NLEN; the caller frees *N), refused when it holds
 * a control, invisible or reordering character. */
static int norm_unicode(const char *path, const char *s, size_t len, char **n, size_t *nlen,
                        struct err *err)
{
    if (utf8_normalize(s, len, UTF8_NFC, n, nlen, err) != 0)
        return err_prefix(err, "%s", path);
    for (size_t i = 0; i < *nlen; i++) {
        unsigned char c = (unsigned char)(*n)[i];
        if (c < 0x20 || c == 0x7f) {
            free(*n);
            *n = NULL;
            return err_set(err, "%s: control characters are not allowed", path),
                   err_code(err, "field_control", path);
        }
    }
    /* what is stored is what is printed: no invisible or reordering marks */
    if (utf8_check_printable(*n, *nlen, err) != 0) {
        free(*n);
        *n = NULL;
        return err_prefix(err, "%s", path);
    }
    return 0;
}

int reg_norm_text(const char *path, const json_t *v, int max, json_t **out, struct err *err)
{
    const char *s, *t;
    size_t len, nlen;
    char *n = NULL;

    if (!json_is_string(v))
        return err_set(err, "%s: must be a string", path), err_code(err, "field_type", path);
    s = json_string_value(v);
    len = json_string_length(v);
    if (len == 0)
        return err_set(err, "%s: must not be empty (leave the field out when unknown)", path),
               err_code(err, "field_empty", path);
    t = s;
    nlen = len;
    if (!printable_ascii(s, len)) {
        if (norm_unicode(path, s, len, &n, &nlen, err) != 0)
            return -1;
        t = n;
    }
    /* Leading or trailing blanks would make two faithful keyings differ. */
    if (t[0] == ' ' || t[nlen - 1] == ' ') {
        free(n);
        return err_set(err, "%s: remove the blanks at the start or end", path),
               err_code(err, "field_blanks", path);
    }
    if ((int)nlen > max) {
        free(n);
        return err_set(err, "%s: longer than %d bytes", path, max),
               err_code(err, "field_too_long", path);
    }
    *out = json_stringn(t, nlen);
    free(n);
    return *out ? 0 : err_oom(err);
}

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int num(const char *s, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* YYYY, YYYY-MM or YYYY-MM-DD: old registers often know only part of a
 * date. */
static int check_partial_date(const char *path, const char *s, bool full_only, struct err *err)
{
    size_t n = strlen(s);
    int y, m;

    if (n == 10 || (full_only && n != 10)) {
        int d;
        if (date_parse(s, &y, &m, &d, NULL) != 0)
            return err_set(err, "%s: '%s' is not a valid date YYYY-MM-DD", path, s),
                   err_code(err, "date_invalid", path);
        return 0;
    }
    if (n == 4 && digits(s, 4) && num(s, 4) >= 1000)
        return 0;
    if (n == 7 && digits(s, 4) && s[4] == '-' && digits(s + 5, 2) && num(s, 4) >= 1000 &&
        (m = num(s + 5, 2)) >= 1 && m <= 12)
        return 0;
    return err_set(err, "%s: '%s' must be YYYY-MM-DD, or YYYY-MM or YYYY when only part is known",
                   path, s),
           err_code(err, "date_format", path);
}

static int norm_field(const char *path, const struct field *f, const json_t *v, json_t **out,
                      struct err *err)
{
    *out = NULL;
    switch (f->type) {
    case F_TEXT: return reg_norm_text(path, v, f->max, out, err);
    case F_DATE_PARTIAL:
    case F_DATE:
        if (!json_is_string(v))
            return err_set(err, "%s: must be a string date", path),
                   err_code(err, "date_format", path);
        if (check_partial_date(path, json_string_value(v), f->type == F_DATE, err) != 0)
            return -1;
        *out = json_deep_copy(v);
        break;
    case F_TIME: {
        const char *s = json_string_value(v);
        if (!s || strlen(s) != 5 || !digits(s, 2) || s[2] != ':' || !digits(s + 3, 2) ||
            num(s, 2) > 23 || num(s + 3, 2) > 59)
            return err_set(err, "%s: must be a time HH:MM (24 hours)", path),
                   err_code(err, "time_format", path);
        *out = json_deep_copy(v);
        break;
    }
    case F_ENUM: {
        const char *s = json_string_value(v);
        struct buf opts = BUF_INIT(512);
        for (size_t i = 0; s && f->values[i]; i++)
            if (strcmp(s, f->values[i]) == 0) {
                *out = json_string(s);
                return *out ? 0 : err_oom(err);
            }
        for (size_t i = 0; f->values[i]; i++)
            if (buf_printf(&opts, "%s%s", i ? ", " : "", f->values[i]) != 0)
                break;
        err_set(err, "%s: must be one of %s", path, buf_str(&opts));
        err_code(err, "field_choice", path);
        buf_release(&opts);
        return -1;
    }
    case F_INT:
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > f->max)
            return err_set(err, "%s: must be a whole number from 1 to %d", path, f->max),
                   err_code(err, "field_number", path);
        *out = json_deep_copy(v);
        break;
    case F_BOOL:
        if (!json_is_boolean(v))
            return err_set(err, "%s: must be true or false", path), err_code(err, "field_bool", path);
        *out = json_deep_copy(v);
        break;
    case F_COUNTRY: {
        const char *s = json_string_value(v);
        if (!s || strlen(s) != 3 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' ||
            s[2] < 'A' || s[2] > 'Z')
            return err_set(err, "%s: must be a 3-letter country code (ISO 3166-1 alpha-3 / ICAO)",
                           path),
                   err_code(err, "country_code", path);
        *out = json_deep_copy(v);
        break;
    }
    case F_HASHES: {
        size_t i;
        json_t *h;
        if (!json_is_array(v) || json_array_size(v) > (size_t)f->max)
            return err_set(err, "%s: must be a list of at most %d SHA-256 hashes", path, f->max);
        json_array_foreach(v, i, h) {
            if (!reg_is_hash(json_string_value(h)))
                return err_set(err, "%s[%zu]: must be a SHA-256 hash (64 lowercase hex digits)",
                               path, i);
            for (size_t j = 0; j < i; j++)
                if (strcmp(json_string_value(json_array_get(v, j)), json_string_value(h)) == 0)
                    return err_set(err, "%s[%zu]: listed twice", path, i);
        }
        *out = json_deep_copy(v);
        break;
    }
    }
    return *out ? 0 : err_oom(err);
}

static int norm_fields(const char *prefix, const struct field *fields, const json_t *in,
                       json_t *out, struct err *err)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)in, key, v) {
        bool known = false;
        for (size_t i = 0; fields[i].name; i++)
            known = known || strcmp(fields[i].name, key) == 0;
        /* top-level sections are handled by the caller */
        for (size_t i = 0; !prefix && sections[i].name; i++)
            known = known || strcmp(sections[i].name, key) == 0;
        if (!known)
            return err_set(err, "%s%s%s: unknown field (see `civreg record draft --example`)",
                           prefix ? prefix : "", prefix ? "." : "", key);
    }
    for (size_t i = 0; fields[i].name; i++) {
        const struct field *f = &fields[i];
        char path[96];
        json_t *nv = NULL;
        v = json_object_get(in, f->name);
        (void)snprintf(path, sizeof path, "%s%s%s", prefix ? prefix : "", prefix ? "." : "",
                       f->name);
        if (v == NULL || json_is_null(v)) {
            if (f->required)
                return err_set(err, "%s: required field missing", path),
                       err_code(err, "field_required", path);
            if (f->deflt == NULL)
                continue;
            nv = f->type == F_BOOL ? json_boolean(strcmp(f->deflt, "true") == 0)
                                   : json_string(f->deflt);
            if (nv == NULL)
                return err_oom(err);
        } else if (norm_field(path, f, v, &nv, err) != 0) {
            return -1;
        }
        if (json_object_set_new(out, f->name, nv) != 0)
            return err_oom(err);
    }
    return 0;
}

int registry_record_normalize(const json_t *in, json_t **out, struct err *err)
{
    json_t *o = NULL;
    const char *bt;
    json_t *order;

    *out = NULL;
    if (!json_is_object(in))
        return err_set(err, "record: must be a JSON object");
    if ((o = json_object()) == NULL)
        return err_oom(err);
    if (norm_fields(NULL, top_fields, in, o, err) != 0)
        goto fail;
    for (size_t i = 0; sections[i].name; i++) {
        const json_t *sv = json_object_get(in, sections[i].name);
        json_t *so;
        if (sv == NULL || json_is_null(sv)) {
            if (sections[i].required) {
                err_set(err, "%s: required section missing", sections[i].name);
                err_code(err, "section_required", sections[i].name);
                goto fail;
            }
            continue;
        }
        if (!json_is_object(sv)) {
            err_set(err, "%s: must be an object", sections[i].name);
            goto fail;
        }
        if ((so = json_object()) == NULL || json_object_set_new(o, sections[i].name, so) != 0) {
            err_oom(err);
            goto fail;
        }
        if (norm_fields(sections[i].name, sections[i].fields, sv, so, err) != 0)
            goto fail;
    }
    /* Cross-field rules. */
    bt = json_string_value(json_object_get(json_object_get(o, "birth"), "type"));
    order = json_object_get(json_object_get(o, "birth"), "order");
    if (bt && strcmp(bt, "single") == 0 && order && json_integer_value(order) != 1) {
        err_set(err, "birth.order: a single birth has no birth order above 1");
        err_code(err, "birth_order_single", "birth.order");
        goto fail;
    }
    {
        const char *bd = json_string_value(json_object_get(json_object_get(o, "birth"), "date"));
        const char *rd = json_string_value(json_object_get(o, "registration_date"));
        if (bd && rd && strlen(bd) == 10 && strcmp(bd, rd) > 0) {
            err_set(err, "registration_date: %s is before the birth (%s)", rd, bd);
            err_code(err, "registration_before_birth", "registration_date");
            goto fail;
        }
    }
    *out = o;
    return 0;
fail:
    json_decref(o);
    return -1;
}

/* Y, M, D of a partial date ("1962", "1958-07", "1987-03-12"); 0 where
 * not stated. Returns -1 when S is not one. */
static int date_parts(const char *s, int *y, int *m, int *d)
{
    size_t n = s ? strlen(s) : 0;

    *y = *m = *d = 0;
    if (n != 4 && n != 7 && n != 10)
        return -1;
    if (!digits(s, 4))
        return -1;
    *y = num(s, 4);
    if (n >= 7) {
        if (s[4] != '-' || !digits(s + 5, 2))
            return -1;
        *m = num(s + 5, 2);
    }
    if (n == 10) {
        if (s[7] != '-' || !digits(s + 8, 2))
            return -1;
        *d = num(s + 8, 2);
    }
    return 0;
}

/* Whether partial date A is surely after B (compared on what both state). */
static bool date_after(const char *a, const char *b)
{
    size_t n = strlen(a) < strlen(b) ? strlen(a) : strlen(b);

    return strncmp(a, b, n) > 0;
}

/* Whole years from partial date FROM to TO, counting a year only when
 * both dates state month and day, else the difference of the years. */
static int years_between(const char *from, const char *to)
{
    int fy, fm, fd, ty, tm, td, years;

    if (date_parts(from, &fy, &fm, &fd) != 0 || date_parts(to, &ty, &tm, &td) != 0)
        return 0;
    years = ty - fy;
    if (fm && tm && (tm < fm || (tm == fm && fd && td && td < fd)))
        years--;
    return years;
}

static const char *str_at(const json_t *rec, const char *section, const char *key)
{
    const json_t *o = section ? json_object_get(rec, section) : rec;

    return json_string_value(json_object_get(o, key));
}

int registry_record_plausible(const json_t *rec, const char *today, json_t *warnings,
                              struct err *err)
{
    static const struct {
        const char *section, *key, *path;
    } dates[] = {
        { "birth", "date", "birth.date" },
        { NULL, "registration_date", "registration_date" },
        { "mother", "date_of_birth", "mother.date_of_birth" },
        { "father", "date_of_birth", "father.date_of_birth" },
    };
    static const char *const parents[] = { "mother", "father" };
    const char *born = str_at(rec, "birth", "date");
    const char *reg = str_at(rec, NULL, "registration_date");

    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        const char *d = str_at(rec, dates[i].section, dates[i].key);
        if (d && date_after(d, today)) {
            err_set(err, "%s: %s is after today (%s)", dates[i].path, d, today);
            return err_code(err, "date_in_future", dates[i].path);
        }
    }
    if (born && reg && date_after(born, reg)) {
        err_set(err, "registration_date: %s is before the birth (%s)", reg, born);
        return err_code(err, "registration_before_birth", "registration_date");
    }
    for (size_t i = 0; born && i < 2; i++) {
        const char *dob = str_at(rec, parents[i], "date_of_birth");
        char path[32];
        int age;
        if (dob == NULL)
            continue;
        (void)snprintf(path, sizeof path, "%s.date_of_birth", parents[i]);
        if (date_after(dob, born) || strcmp(dob, born) == 0) {
            err_set(err, "%s: %s is not before the child's birth (%s)", path, dob, born);
            return err_code(err, "parent_born_after_child", path);
        }
        age = years_between(dob, born);
        if (warnings && (age < REGISTRY_PARENT_MIN_AGE || age > REGISTRY_PARENT_MAX_AGE) &&
            json_array_append_new(warnings,
                                  json_pack("{s:s,s:s,s:i}", "code",
                                            age < REGISTRY_PARENT_MIN_AGE ? "parent_too_young"
                                                                          : "parent_too_old",
                                            "field", path, "years", age)) != 0)
            return err_oom(err);
    }
    return 0;
}

static const char record_example[] =
    "{"
    "\"child\":{\"given_names\":\"Amélie Wanjiru\",\"family_name\":\"Otieno\","
    "\"sex\":\"female\"},"
    "\"birth\":{\"date\":\"1987-03-12\",\"time\":\"14:30\",\"place_type\":\"facility\","
    "\"facility\":\"St. Mary's Mission Hospital\",\"locality\":\"Kisumu\","
    "\"district\":\"Kisumu Central\",\"type\":\"single\"},"
    "\"mother\":{\"given_names\":\"Grace Achieng\",\"family_name\":\"Otieno\","
    "\"date_of_birth\":\"1962\",\"nationality\":\"UTO\",\"residence\":\"Kondele, Kisumu\","
    "\"id_number\":\"12345678\"},"
    "\"father\":{\"given_names\":\"Joseph Omondi\",\"family_name\":\"Otieno\","
    "\"date_of_birth\":\"1958-07\",\"nationality\":\"UTO\"},"
    "\"informant\":{\"name\":\"Grace Achieng Otieno\",\"relationship\":\"mother\"},"
    "\"registration_date\":\"1987-03-20\","
    "\"register\":{\"office\":\"HQ\",\"year\":1987,\"volume\":\"3\",\"page\":112,"
    "\"entry\":7},"
    "\"late_registration\":false,"
    "\"remarks\":\"Entered from the district birth register, vol. 3.\","
    "\"evidence\":[]"
    "}";

json_t *registry_record_example(void)
{
    json_t *v = NULL;

    if (json_parse(record_example, sizeof record_example - 1, &v, NULL) != 0)
        return NULL;
    return v;
}

/* Flatten a normalized record into "section.field" -> value. */
static int flatten(const json_t *rec, json_t *flat)
{
    const char *key, *k2;
    json_t *v, *v2;

    json_object_foreach((json_t *)rec, key, v) {
        if (strcmp(key, "evidence") == 0)
            continue; /* what was keyed from, not what was keyed */
        if (json_is_object(v)) {
            json_object_foreach(v, k2, v2) {
                char path[96];
                (void)snprintf(path, sizeof path, "%s.%s", key, k2);
                if (json_object_set(flat, path, v2) != 0)
                    return -1;
            }
        } else if (json_object_set(flat, key, v) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Mismatches between two normalized records: [{field, draft, verify}]
 * (null where one side lacks the field), sorted by field name. */
int reg_record_compare(const json_t *draft, const json_t *verify, json_t **mismatches,
                       struct err *err)
{
    json_t *a = json_object(), *b = json_object(), *out = json_array(), *keys = json_array();
    const char *key;
    json_t *v;
    size_t n;
    int rc = -1;

    *mismatches = NULL;
    /* equal records have no field that differs (the common case) */
    if (out && json_equal(draft, verify)) {
        *mismatches = out;
        out = NULL;
        rc = 0;
        goto done;
    }
    if (!a || !b || !out || !keys || flatten(draft, a) != 0 || flatten(verify, b) != 0)
        goto oom;
    json_object_foreach(a, key, v) if (json_array_append_new(keys, json_string(key)) != 0) goto oom;
    json_object_foreach(b, key, v) if (!json_object_get(a, key) &&
                                       json_array_append_new(keys, json_string(key)) != 0) goto oom;
    n = json_array_size(keys);
    /* simple insertion sort: a record has a few dozen fields */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(json_string_value(json_array_get(keys, j - 1)),
                                           json_string_value(json_array_get(keys, j))) > 0;
             j--) {
            json_t *t = json_incref(json_array_get(keys, j));
            if (json_array_set(keys, j, json_array_get(keys, j - 1)) != 0 ||
                json_array_set_new(keys, j - 1, t) != 0)
                goto oom;
        }
    for (size_t i = 0; i < n; i++) {
        const char *k = json_string_value(json_array_get(keys, i));
        json_t *x = json_object_get(a, k), *y = json_object_get(b, k);
        if (x && y && json_equal(x, y))
            continue;
        if (json_array_append_new(out, json_pack("{s:s, s:O, s:O}", "field", k, "draft",
                                                 x ? x : json_null(), "verify",
                                                 y ? y : json_null())) != 0)
            goto oom;
    }
    *mismatches = out;
    out = NULL;
    rc = 0;
    goto done;
oom:
    err_oom(err);
done:
    json_decref(a);
    json_decref(b);
    json_decref(out);
    json_decref(keys);
    return rc;
}
