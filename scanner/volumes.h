/* civreg scanner: reading back imported volumes and pages (what a clerk
 * opens to key records from). Read-only; any local operator.
 *
 * A record keyed from a page refers to it by its register reference
 * {office, year, volume, page} plus an entry number on that page, and
 * lists the page's file hash in its evidence: scan_page_show returns both
 * ready to use. */
#ifndef CIVREG_SCANNER_VOLUMES_H
#define CIVREG_SCANNER_VOLUMES_H

#include <jansson.h>

#include "core/err.h"

struct db;

/* [{id, office, year, volume, pages, flagged_pages, created_at}] by office,
 * year, volume (natural order). New reference in *OUT. */
int scan_volume_list(struct db *db, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* The pages of volume ID ("office|year|volume"), separator first, then by
 * page number: [{id, page_number, separator, file_name, file_hash,
 * page_index, preview_hash, quality_flags[]}]. Fails naming an unknown
 * volume. */
int scan_volume_pages(struct db *db, const char *id, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* One page by id: {id, file_hash, page_index, file_name, preview_hash,
 * volume_id, page_number, separator, import_id, event_seq, created_at,
 * meta (the signed description), register: {office, year, volume, page} or
 * null, evidence: [file_hash]}. */
int scan_page_show(struct db *db, const char *id, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

#endif
