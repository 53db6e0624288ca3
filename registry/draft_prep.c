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

/* The drafts and the line freed (on the preparing thread once ended). */
static void line_free(struct reg_prep_line *l)
{
    for (size_t i = 0; i < l->n; i++)
        reg_draft_prep_release(&l->preps[i]);
    free(l->preps);
    free(l);
}

static void *prep_main(void *arg)
{
    struct reg_prep_line *l = arg;

    (void)pthread_setname_np(pthread_self(), "civreg-prep"); /* for top and perf */
    for (size_t i = 0; i < l->n; i++) {
        prepare_one(l, i);
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

struct reg_prep_line *reg_prep_line_start(json_t *const *records, size_t n, struct err *errs)
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
    for (size_t i = 0; i < n; i++)
        prepare_one(l, i);
    l->ready = n;
    return l;
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
