/* civreg issuance: internals shared by applications.c, personalize.c and
 * documents.c. Not API. */
#ifndef CIVREG_ISSUANCE_OFFICE_APP_INT_H
#define CIVREG_ISSUANCE_OFFICE_APP_INT_H

#include "issuance/icao/icao.h"
#include "office_app.h"
#include "office_int.h"

/* An application row (strings malloc'd; released with office_app_release). */
struct office_app {
    char *id, *office, *uin, *record_id, *doc_type, *kind, *replaces, *status;
    char *photo_hash, *signature_hash, *enrolled_by, *decided_by;
    char *document_number, *booklet_serial, *mrz, *datapage_hash, *chip_hash;
    json_t *holder;
};

int office_app_load(struct db *db, const char *id, struct office_app *app, struct err *err)
    __attribute__((warn_unused_result));
void office_app_release(struct office_app *app);

/* Move application ID from status FROM to TO (fails when it moved meanwhile). */
int office_app_set_status(struct db *db, const char *id, const char *from, const char *to,
                          struct err *err) __attribute__((warn_unused_result));

/* Set a document's status columns (no event: the caller logs). */
int office_doc_set(struct db *db, const struct office_actor *a, const char *number,
                   const char *status, const char *reason, const char *evidence,
                   struct err *err) __attribute__((warn_unused_result));

/* Cancel document NUMBER replaced by a new one, unless it is lost, stolen,
 * revoked or already cancelled/expired (those keep their status). */
int office_doc_cancel_replaced(struct db *db, const struct office_actor *a, const char *number,
                               const char *reason, struct err *err)
    __attribute__((warn_unused_result));

/* A setting from civreg's settings table (country, office_name), or DEFLT. */
int office_setting(struct db *db, const char *key, const char *deflt, char *out, size_t size,
                   struct err *err) __attribute__((warn_unused_result));

/* Spoil a personalized booklet that failed quality control. */
int office_booklet_spoil_personalized(struct db *db, const struct office_actor *a,
                                      const char *serial, const char *application_id,
                                      const char *reason, struct err *err)
    __attribute__((warn_unused_result));

/* Whether the registry's view of a person (registry_person_show) records
 * a death: "deceased": true, "status": "deceased", or a non-null "death" or
 * "date_of_death" member. Enrolment refuses such a person. */
bool office_person_deceased(const json_t *person);

#endif
