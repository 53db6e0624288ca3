/* The data page from a JSON record: the MRZ and the visual zone from one
 * source, so the two can never disagree. */
#include <string.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "datapage.h"

static const char *const mrz_keys[] = {
    "format", "document_code", "issuing_state", "primary_identifier", "secondary_identifier",
    "document_number", "nationality", "date_of_birth", "sex", "date_of_expiry",
    "optional_data", "optional_data_2", NULL,
};

static const char *const page_keys[] = {
    "format", "document_code", "issuing_state", "primary_identifier", "secondary_identifier",
    "document_number", "nationality", "date_of_birth", "sex", "date_of_expiry",
    "optional_data", "optional_data_2", "document_name", "issuing_state_name",
    "nationality_name", "place_of_birth", "date_of_issue", "authority", "personal_number",
    "specimen_text", NULL,
};

static int get_date(const json_t *rec, const char *key, struct mrz_date *out, struct err *err)
{
    const char *s;

    if (json_get_string(rec, key, true, &s, err) != 0)
        return -1;
    if (date_parse(s, &out->year, &out->month, &out->day, err) != 0)
        return err_prefix(err, "%s", key);
    return 0;
}

int datapage_render_json(const json_t *record, const unsigned char *photo, size_t photo_len,
                         const unsigned char *signature, size_t signature_len, struct buf *pdf,
                         struct buf *mrz_out,
                         struct err *err)
{
    struct datapage_input in;
    struct buf lines = BUF_INIT(256);
    json_t *mrzrec = NULL;
    const char *format, *sex, *v;
    int rc = -1;

    memset(&in, 0, sizeof in);
    if (!json_is_object(record))
        return err_set(err, "data page: the record must be a JSON object");
    if (json_check_keys(record, page_keys, err) != 0)
        return -1;
    /* The MRZ from the MRZ members alone (mrz_generate_json refuses others). */
    mrzrec = json_object();
    if (mrzrec == NULL)
        return err_set(err, "data page: out of memory");
    for (size_t i = 0; mrz_keys[i]; i++) {
        json_t *m = json_object_get(record, mrz_keys[i]);
        if (m && json_object_set(mrzrec, mrz_keys[i], m) != 0) {
            err_set(err, "data page: out of memory");
            goto out;
        }
    }
    if (mrz_generate_json(mrzrec, &lines, NULL, err) != 0)
        goto out;

    if (json_get_string(record, "format", true, &format, err) != 0 ||
        mrz_format_parse(format, &in.format, err) != 0)
        goto out;
    if (json_get_string(record, "document_name", true, &in.document_name, err) != 0 ||
        json_get_string(record, "document_code", true, &in.document_code, err) != 0 ||
        json_get_string(record, "issuing_state", true, &in.issuing_state, err) != 0 ||
        json_get_string(record, "issuing_state_name", false, &in.issuing_state_name, err) != 0 ||
        json_get_string(record, "document_number", true, &in.document_number, err) != 0 ||
        json_get_string(record, "primary_identifier", true, &in.primary_identifier, err) != 0 ||
        json_get_string(record, "secondary_identifier", false, &in.secondary_identifier,
                        err) != 0 ||
        json_get_string(record, "nationality", true, &in.nationality, err) != 0 ||
        json_get_string(record, "nationality_name", false, &in.nationality_name, err) != 0 ||
        json_get_string(record, "place_of_birth", false, &in.place_of_birth, err) != 0 ||
        json_get_string(record, "authority", true, &in.authority, err) != 0 ||
        json_get_string(record, "specimen_text", false, &in.specimen_text, err) != 0 ||
        json_get_string(record, "sex", true, &sex, err) != 0)
        goto out;
    if (strlen(sex) != 1) {
        err_set(err, "sex: F, M, X or <");
        goto out;
    }
    in.sex = sex[0];
    if (get_date(record, "date_of_birth", &in.date_of_birth, err) != 0 ||
        get_date(record, "date_of_issue", &in.date_of_issue, err) != 0 ||
        get_date(record, "date_of_expiry", &in.date_of_expiry, err) != 0)
        goto out;
    if (json_get_string(record, "personal_number", false, &in.personal_number, err) != 0)
        goto out;
    if (in.personal_number == NULL && in.format == MRZ_TD3) {
        if (json_get_string(record, "optional_data", false, &v, err) != 0)
            goto out;
        in.personal_number = v;
    }
    in.photo = photo;
    in.photo_len = photo_len;
    in.signature = signature;
    in.signature_len = signature_len;
    in.mrz = buf_str(&lines);
    if (datapage_render(&in, pdf, err) != 0)
        goto out;
    if (mrz_out && buf_append(mrz_out, lines.data, lines.len) != 0) {
        err_set(err, "data page: out of memory");
        goto out;
    }
    rc = 0;
out:
    json_decref(mrzrec);
    buf_release(&lines);
    return rc;
}
