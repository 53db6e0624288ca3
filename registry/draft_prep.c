/* civreg registry: a batch's drafts prepared on a second thread (see
 * draft_prep.h). */
#define _GNU_SOURCE /* pthread_setname_np */
#include <stdlib.h>
#include <string.h>

#include "draft_prep.h"

/* Fewer drafts than this are prepared on the calling thread: starting and
 * joining a thread costs about what preparing a few drafts does. */
#define PREP_THREAD_MIN 16

int reg_record_canonical(const json_t *norm, struct buf *out, char hash[65], struct err *err)
{
    if (json_canonical(norm, out, err) != 0)
        return -1;
    reg_sha256_hex(out->data, out->len, hash);
    return 0;
}

int reg_draft_prepare(const json_t *record, struct reg_draft_prep *p, struct err *err)
{
    struct err fold_err = ERR_INIT;

    memset(p, 0, sizeof *p);
    p->data = (struct buf)BUF_INIT(RECORD_MAX);
    err_clear(&p->canon_err);
    if (registry_record_normalize(record, &p->norm, err) != 0) {
        p->norm = NULL;
        return -1;
    }
    p->canon_rc = reg_record_canonical(p->norm, &p->data, p->hash, &p->canon_err);
    /* folding fails only for memory; the draft's transaction then folds
     * (and fails) where the serial path does */
    p->folded = reg_search_keys(p->norm, &p->keys, &fold_err) == 0;
    /* and the index entry's texts (names joined, phonetic keys, date
     * tokens); one too long is refused by the draft's transaction */
    if (p->folded)
        (void)reg_search_keys_texts(p->norm, &p->keys);
    return 0;
}

void reg_draft_prep_release(struct reg_draft_prep *p)
{
    json_decref(p->norm);
    p->norm = NULL;
    buf_release(&p->data);
    if (p->folded)
        reg_search_keys_release(&p->keys);
    p->folded = false;
}

static void prepare_one(struct reg_prep_line *l, size_t i)
{
    if (reg_draft_prepare(l->records[i], &l->preps[i], &l->errs[i]) != 0)
        l->preps[i].norm = NULL;
}

/* One arena kept between lines (its largest chunk mapped): a batch's
 * drafts take about 14 MB of jansson values, and the page faults of a
 * fresh mapping each batch cost about what the frees did. The lines of
 * back-to-back batches overlap (a line is freed beside the next batch), so
 * two arenas take turns; one is kept while no import runs. */
static pthread_mutex_t spare_mu = PTHREAD_MUTEX_INITIALIZER;
static struct json_arena spare = JSON_ARENA_INIT;

static void arena_take(struct json_arena *a)
{
    pthread_mutex_lock(&spare_mu);
    *a = spare;
    spare = (struct json_arena)JSON_ARENA_INIT;
    pthread_mutex_unlock(&spare_mu);
}

static void arena_give(struct json_arena *a)
{
    json_arena_reset(a);
    pthread_mutex_lock(&spare_mu);
    if (spare.chunks == NULL) {
        spare = *a;
        *a = (struct json_arena)JSON_ARENA_INIT;
    }
    pthread_mutex_unlock(&spare_mu);
    json_arena_release(a); /* another line's was kept */
}

/* PREPS[FROM, TO) prepared on this thread, in L's arena when pooled. */
static void prepare_range(struct reg_prep_line *l, size_t from, size_t to)
{
    if (l->pooled)
        json_arena_enter(&l->arena);
    for (size_t i = from; i < to; i++)
        prepare_one(l, i);
    if (l->pooled)
        json_arena_leave();
}

/* The drafts and the line freed (on the preparing thread once ended). */
static void line_free(struct reg_prep_line *l)
{
    for (size_t i = 0; i < l->n; i++) {
        /* a pooled draft's values are the arena's: dropped with it below,
         * not walked (registry_record_normalize copies what it keeps of
         * the record, so nothing in them is another's) */
        if (l->pooled)
            l->preps[i].norm = NULL;
        reg_draft_prep_release(&l->preps[i]);
    }
    if (l->pooled)
        arena_give(&l->arena);
    free(l->preps);
    free(l);
}

static void *prep_main(void *arg)
{
    struct reg_prep_line *l = arg;

    (void)pthread_setname_np(pthread_self(), "civreg-prep"); /* for top and perf */
    for (size_t i = 0; i < l->n; i++) {
        prepare_range(l, i, i + 1);
        /* PREPS[I] and ERRS[I] are the batch's from here on */
        pthread_mutex_lock(&l->mu);
        l->ready = i + 1;
        if (l->waits)
            pthread_cond_signal(&l->ready_cv);
        pthread_mutex_unlock(&l->mu);
    }
    /* the drafts are freed here, not on the batch's thread, once the batch
     * (which may retry its transaction with them) is done with them */
    pthread_mutex_lock(&l->mu);
    while (!l->ended)
        pthread_cond_wait(&l->end_cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    pthread_cond_destroy(&l->end_cv);
    pthread_cond_destroy(&l->ready_cv);
    pthread_mutex_destroy(&l->mu);
    line_free(l);
    return NULL;
}

static struct reg_prep_line *line_start(json_t *const *records, size_t n, struct err *errs,
                                        bool pooled)
{
    struct reg_prep_line *l = calloc(1, sizeof *l);

    if (l == NULL)
        return NULL;
    l->preps = calloc(n ? n : 1, sizeof *l->preps);
    if (l->preps == NULL) {
        free(l);
        return NULL;
    }
    l->records = records;
    l->errs = errs;
    l->n = n;
    l->pooled = pooled;
    l->arena = (struct json_arena)JSON_ARENA_INIT;
    if (pooled)
        arena_take(&l->arena);
    for (size_t i = 0; i < n; i++)
        l->preps[i] = (struct reg_draft_prep){ .data = BUF_INIT(RECORD_MAX) };
    if (n >= PREP_THREAD_MIN) {
        pthread_mutex_init(&l->mu, NULL);
        pthread_cond_init(&l->ready_cv, NULL);
        pthread_cond_init(&l->end_cv, NULL);
        l->threaded = pthread_create(&l->th, NULL, prep_main, l) == 0;
        if (l->threaded) {
            /* never joined: the thread ends by freeing the line */
            (void)pthread_detach(l->th);
            return l;
        }
        pthread_cond_destroy(&l->end_cv);
        pthread_cond_destroy(&l->ready_cv);
        pthread_mutex_destroy(&l->mu);
    }
    prepare_range(l, 0, n);
    l->ready = n;
    return l;
}

struct reg_prep_line *reg_prep_line_start(json_t *const *records, size_t n, struct err *errs)
{
    return line_start(records, n, errs, false);
}

struct reg_prep_line *reg_prep_line_start_pooled(json_t *const *records, size_t n,
                                                 struct err *errs)
{
    return line_start(records, n, errs, true);
}

const struct reg_draft_prep *reg_prep_line_get(struct reg_prep_line *l, size_t i)
{
    if (l->threaded) {
        pthread_mutex_lock(&l->mu);
        while (l->ready <= i) {
            l->waits = true;
            pthread_cond_wait(&l->ready_cv, &l->mu);
        }
        l->waits = false;
        pthread_mutex_unlock(&l->mu);
    }
    return &l->preps[i];
}

void reg_prep_line_end(struct reg_prep_line *l)
{
    if (!l->threaded) {
        line_free(l);
        return;
    }
    /* every draft prepared: the thread no longer reads RECORDS nor writes
     * ERRS, which the caller may free once this returns */
    pthread_mutex_lock(&l->mu);
    while (l->ready < l->n) {
        l->waits = true;
        pthread_cond_wait(&l->ready_cv, &l->mu);
    }
    l->waits = false;
    l->ended = true;
    pthread_cond_signal(&l->end_cv);
    pthread_mutex_unlock(&l->mu);
}
