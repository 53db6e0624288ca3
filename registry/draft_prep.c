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

/* DST a view of a copy of SRC's bytes (and their NUL) in the arena this
 * thread has entered: freed with the arena only, and nothing appends to it.
 * -1 when out of memory (DST untouched). */
static int copy_to_arena(const struct buf *src, struct buf *dst)
{
    unsigned char *at = json_arena_alloc(src->len + 1);

    if (at == NULL)
        return -1;
    if (src->len > 0)
        memcpy(at, src->data, src->len);
    at[src->len] = '\0';
    *dst = (struct buf){ at, src->len, src->len + 1, src->max };
    return 0;
}

/* K's folded names (and entry texts) moved into the arena this thread has
 * entered, their malloc'd buffers freed here, while still in the cache,
 * rather than 2,000 drafts later. -1 when out of memory (K untouched). */
static int keys_to_arena(struct search_keys *k)
{
    struct buf *all[] = { &k->given,          &k->family,       &k->place,
                          &k->mother,         &k->father,       &k->texts.names,
                          &k->texts.names_ph, &k->texts.parents, &k->texts.parents_ph,
                          &k->texts.dates,    &k->texts.place,  &k->texts.mother,
                          &k->texts.father };
    struct buf views[sizeof all / sizeof *all];
    size_t n = k->has_texts ? sizeof all / sizeof *all : 5;
    bool has_texts = k->has_texts;

    _Static_assert(sizeof k->texts == 8 * sizeof(struct buf), "every entry text moved");
    for (size_t i = 0; i < n; i++)
        if (copy_to_arena(all[i], &views[i]) != 0)
            return -1;
    reg_search_keys_release(k);
    k->has_texts = has_texts;
    for (size_t i = 0; i < n; i++)
        *all[i] = views[i];
    return 0;
}

/* reg_draft_prepare; with SCRATCH (a pooled line's, inside its arena), the
 * canonical bytes written there (its memory kept from draft to draft, not
 * grown again each time) and P's buffers views of copies in the arena:
 * nothing of P is malloc's then, and P is not released but dropped with
 * the arena. */
static int prepare(const json_t *record, struct reg_draft_prep *p, struct buf *scratch,
                   struct err *err)
{
    struct err fold_err = ERR_INIT;

    memset(p, 0, sizeof *p);
    p->data = (struct buf)BUF_INIT(RECORD_MAX);
    err_clear(&p->canon_err);
    if (registry_record_normalize(record, &p->norm, err) != 0) {
        p->norm = NULL;
        return -1;
    }
    if (scratch == NULL) {
        p->canon_rc = reg_record_canonical(p->norm, &p->data, p->hash, &p->canon_err);
    } else {
        buf_reset(scratch);
        p->canon_rc = reg_record_canonical(p->norm, scratch, p->hash, &p->canon_err);
        if (p->canon_rc == 0 && copy_to_arena(scratch, &p->data) != 0)
            p->canon_rc = err_oom(&p->canon_err);
    }
    /* folding fails only for memory; the draft's transaction then folds
     * (and fails) where the serial path does */
    p->folded = reg_search_keys(p->norm, &p->keys, &fold_err) == 0;
    /* and the index entry's texts (names joined, phonetic keys, date
     * tokens); one too long is refused by the draft's transaction */
    if (p->folded)
        (void)reg_search_keys_texts(p->norm, &p->keys);
    if (scratch != NULL && p->folded && keys_to_arena(&p->keys) != 0) {
        reg_search_keys_release(&p->keys);
        p->folded = false;
    }
    return 0;
}

int reg_draft_prepare(const json_t *record, struct reg_draft_prep *p, struct err *err)
{
    return prepare(record, p, NULL, err);
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
    if (prepare(l->records[i], &l->preps[i], l->pooled ? &l->scratch : NULL, &l->errs[i]) != 0)
        l->preps[i].norm = NULL;
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
    /* a pooled line's drafts are the arena's (prepare): dropped with it,
     * not walked (registry_record_normalize copies what it keeps of the
     * record, so nothing in them is another's) */
    if (!l->pooled)
        for (size_t i = 0; i < l->n; i++)
            reg_draft_prep_release(&l->preps[i]);
    if (l->pooled) /* its chunks kept for the next line's (core/json_arena.c) */
        json_arena_release(&l->arena);
    buf_release(&l->scratch);
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
    l->scratch = (struct buf)BUF_INIT(RECORD_MAX);
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
