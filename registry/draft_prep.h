/* civreg registry: a batch's drafts prepared on a second thread.
 *
 * What a draft's transaction needs that depends on its input alone (the
 * normalized record, its canonical bytes and hash, its folded names) is
 * computed for the batch's next drafts on a thread of its own while the
 * thread holding the transaction writes the earlier ones. The functions are
 * the ones the serial path calls (registry_record_normalize, the record's
 * canonical form, reg_search_keys), so the bytes stored are the same. */
#ifndef CIVREG_REGISTRY_DRAFT_PREP_H
#define CIVREG_REGISTRY_DRAFT_PREP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "search_int.h"

/* The most bytes of a record's canonical form. */
#define RECORD_MAX (256 * 1024)

/* Canonical bytes of the normalized record NORM into OUT, their SHA-256
 * (hex) into HASH. */
int reg_record_canonical(const json_t *norm, struct buf *out, char hash[65], struct err *err);

struct reg_draft_prep {
    json_t *norm;       /* NULL: refused by the normalization (its error is the draft's) */
    struct buf data;    /* NORM's canonical bytes, with CANON_RC 0 */
    char hash[65];      /* their SHA-256, hex */
    int canon_rc;       /* the canonical form's result; CANON_ERR says why it failed */
    struct err canon_err;
    struct search_keys keys; /* with their index entry texts (reg_search_keys_texts) */
    bool folded;        /* KEYS hold NORM's folded names (else the draft folds them) */
};

/* Prepare the draft RECORD into P (released with reg_draft_prep_release,
 * even on failure). Returns -1 with ERR set when the normalization refuses
 * RECORD; a failure of the canonical form is kept in P, reported by the
 * draft's transaction where the serial path reports it. */
int reg_draft_prepare(const json_t *record, struct reg_draft_prep *p, struct err *err);
void reg_draft_prep_release(struct reg_draft_prep *p);

/* The N drafts RECORDS prepared (refusals into ERRS), in order, on a
 * thread of its own when N is large enough to pay for one (else, or when no
 * thread starts, on the calling thread before reg_prep_line_start returns).
 * The line owns the prepared drafts; reg_prep_line_end gives them back to
 * the preparing thread, which releases them (and the line) beside the
 * caller's next work. */
struct reg_prep_line {
    json_t *const *records;
    struct reg_draft_prep *preps;
    struct err *errs;
    size_t n;
    bool threaded;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t ready_cv; /* the batch waits for READY */
    pthread_cond_t end_cv;   /* the thread waits for ENDED */
    /* POOLED: the drafts (values, canonical bytes, folded names) taken from
     * ARENA by the thread that prepares them, dropped with it at once
     * (reg_prep_line_start_pooled) */
    bool pooled;
    struct json_arena arena;
    struct buf scratch; /* POOLED: the canonical bytes made here, then copied */
    size_t ready; /* under MU: PREPS[0..READY) are done */
    bool waits;   /* under MU: the batch waits on READY_CV */
    bool ended;   /* under MU: the batch is done with the line */
};

/* A line for the N drafts RECORDS, started; NULL when out of memory. */
struct reg_prep_line *reg_prep_line_start(json_t *const *records, size_t n, struct err *errs);
/* reg_prep_line_start, the drafts (their jansson values NORM, canonical
 * bytes DATA and folded names KEYS) allocated from an arena of the line and
 * freed with it in one go, not value by value (a batch's 2,000 drafts freed
 * while the next batch is prepared cost the allocator's consolidation on
 * the preparing thread and its lock on the others). The caller takes no
 * reference to a draft's values that outlives reg_prep_line_end, frees
 * none (json_decref to zero) and appends to none of its buffers: they are
 * not malloc's. */
struct reg_prep_line *reg_prep_line_start_pooled(json_t *const *records, size_t n,
                                                 struct err *errs);
/* PREPS[I] once it is prepared (waits for it). */
const struct reg_draft_prep *reg_prep_line_get(struct reg_prep_line *l, size_t i);
/* Wait until every draft is prepared (RECORDS and ERRS are the caller's
 * again), then hand L to its thread, which releases the drafts and L; without
 * a thread they are released here. L is not used after. */
void reg_prep_line_end(struct reg_prep_line *l);

#endif
