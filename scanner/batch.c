/* civreg scanner: the threaded batch runner (see batch.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"

struct batch {
    const char *const *paths;
    size_t n;
    const struct scan_batch_opts *opts;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t next;     /* next file index a worker takes */
    size_t consumed; /* files handed to the callback so far */
    size_t window;   /* files allowed in flight beyond consumed */
    bool stop;
    struct scan_file_result **done; /* per index, NULL until finished */
    /* The memory budget: files are admitted in index order, so the file
     * the consumer waits for is never queued behind later ones. */
    size_t budget, held; /* bytes */
    size_t admit_next;   /* index of the next file to admit */
    size_t *charge;      /* per index: bytes held until it is consumed */
};

static void result_free(struct scan_file_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nreports; i++)
        scan_page_report_release(&r->reports[i]);
    free(r->reports);
    scan_pages_release(&r->pages);
    free(r->data);
    free(r);
}

/* Wait for file I's turn and for COST bytes of the budget (or for nothing
 * else to be held), then hold them until the file is consumed. */
static void admit(struct batch *b, size_t i, size_t cost)
{
    pthread_mutex_lock(&b->lock);
    while (!b->stop && (b->admit_next != i || (b->held > 0 && b->held + cost > b->budget)))
        pthread_cond_wait(&b->cond, &b->lock);
    b->held += cost;
    b->charge[i] = cost;
    b->admit_next = i + 1;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

/* What decoding and analysing the file will hold, from its headers: its
 * bytes, its pages, and the barcode and quality passes' working copies of
 * its largest page (pages up to 16 Mpx are also read doubled in each
 * direction, 4 times their pixels). LIM gets the limits that keep the
 * decoder to that. When the headers cannot be read, the file's size, with
 * LIM capped at one pixel (the decoder then says what is wrong). */
static size_t cost_of(const struct scan_file_result *r, struct scan_limits *lim)
{
    uint64_t px = 0, largest = 0, cost;
    struct err err = ERR_INIT;

    if (scan_probe(r->data, r->len, r->path, lim, &px, &largest, &err) != 0) {
        lim->max_pixels = lim->max_total_pixels = 1;
        return r->len;
    }
    lim->max_total_pixels = px;
    cost = (uint64_t)r->len + px + (largest <= 16000000u ? 5 : 2) * largest;
    return cost > SIZE_MAX ? SIZE_MAX : (size_t)cost;
}

static void process(struct batch *b, struct scan_reader *rd, struct scan_file_result *r)
{
    const struct scan_batch_opts *o = b->opts;
    struct scan_limits lim = SCAN_LIMITS_DEFAULT;
    size_t cost;

    if (scan_read_file(r->path, (size_t)512 << 20, &r->data, &r->len, &r->err) != 0) {
        admit(b, r->index, 0);
        r->failed = true;
        return;
    }
    if (o->read_only && o->read_only[r->index]) {
        admit(b, r->index, r->len);
        return;
    }
    if (o->limits)
        lim = *o->limits;
    cost = cost_of(r, &lim);
    if (cost > b->budget) {
        admit(b, r->index, 0);
        err_set(&r->err, "%s: needs about %zu MB to decode, over the memory budget of %zu MB "
                         "(scan_memory_mb in civreg.conf)", r->path, (cost >> 20) + 1,
                b->budget >> 20);
        free(r->data);
        r->data = NULL;
        r->failed = true;
        return;
    }
    admit(b, r->index, cost);
    if (scan_decode(r->data, r->len, r->path, &lim, &r->pages, &r->err) != 0) {
        r->failed = true;
        return;
    }
    if (!o->keep_data) {
        free(r->data);
        r->data = NULL;
    }
    r->reports = calloc(r->pages.count, sizeof *r->reports);
    if (r->reports == NULL) {
        r->failed = true;
        err_set(&r->err, "%s: out of memory", r->path);
        return;
    }
    for (size_t p = 0; p < r->pages.count; p++) {
        if (scan_analyze_page(rd, &r->pages.page[p], o->what, &r->reports[p], &r->err) != 0) {
            r->failed = true;
            err_prefix(&r->err, "%s page %zu", r->path, p + 1);
            return;
        }
        r->nreports++;
    }
    if (!o->keep_pages)
        scan_pages_release(&r->pages);
}

static void *worker(void *arg)
{
    struct batch *b = arg;
    struct scan_reader *rd = NULL;
    struct err err = ERR_INIT;

    if ((b->opts->what & SCAN_ANALYZE_BARCODES) && scan_reader_new(&rd, &err) != 0)
        rd = NULL; /* each file then fails with the message below */
    if (rd)
        scan_reader_set_retry(rd, !b->opts->no_retry);
    for (;;) {
        struct scan_file_result *r;
        size_t i;

        pthread_mutex_lock(&b->lock);
        while (!b->stop && b->next < b->n && b->next >= b->consumed + b->window)
            pthread_cond_wait(&b->cond, &b->lock);
        if (b->stop || b->next >= b->n) {
            pthread_mutex_unlock(&b->lock);
            break;
        }
        i = b->next++;
        pthread_mutex_unlock(&b->lock);

        r = calloc(1, sizeof *r);
        if (r != NULL) {
            r->path = b->paths[i];
            r->index = i;
            if ((b->opts->what & SCAN_ANALYZE_BARCODES) && rd == NULL) {
                admit(b, i, 0);
                r->failed = true;
                r->err = err;
            } else {
                process(b, rd, r);
            }
        } else {
            admit(b, i, 0);
        }
        pthread_mutex_lock(&b->lock);
        /* A NULL result after being taken means out of memory: mark it with
         * a sentinel the consumer reports. */
        b->done[i] = r ? r : (struct scan_file_result *)b;
        pthread_cond_broadcast(&b->cond);
        pthread_mutex_unlock(&b->lock);
    }
    scan_reader_free(rd);
    return NULL;
}

int scan_batch_run(const char *const *paths, size_t n, const struct scan_batch_opts *opts,
                   scan_batch_fn fn, void *ctx, struct err *err)
{
    struct batch b;
    pthread_t threads[8];
    unsigned jobs = opts->jobs, started = 0;
    int rc = 0;

    if (n == 0)
        return 0;
    if (jobs == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cpus < 1 ? 1 : cpus > 8 ? 8 : (unsigned)cpus;
    }
    if (jobs > 8)
        jobs = 8;
    if (jobs > n)
        jobs = (unsigned)n;
    memset(&b, 0, sizeof b);
    b.paths = paths;
    b.n = n;
    b.opts = opts;
    /* Decoded pages are big (up to 600 M pixels a file): when they are kept
     * for the consumer, hold at most one file beyond those being decoded. */
    b.window = opts->keep_pages ? (size_t)jobs + 1 : 2 * (size_t)jobs;
    b.budget = opts->memory_budget ? opts->memory_budget : SCAN_BATCH_MEMORY_DEFAULT;
    b.done = calloc(n, sizeof *b.done);
    b.charge = calloc(n, sizeof *b.charge);
    if (b.done == NULL || b.charge == NULL) {
        free(b.done);
        free(b.charge);
        return err_set(err, "scan: out of memory");
    }
    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.cond, NULL);
    for (; started < jobs; started++)
        if (pthread_create(&threads[started], NULL, worker, &b) != 0)
            break;
    if (started == 0) {
        rc = err_set(err, "scan: cannot start worker threads");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct scan_file_result *r, oom;
        pthread_mutex_lock(&b.lock);
        while (b.done[i] == NULL)
            pthread_cond_wait(&b.cond, &b.lock);
        r = b.done[i];
        pthread_mutex_unlock(&b.lock);
        if (r == (struct scan_file_result *)&b) {
            memset(&oom, 0, sizeof oom);
            oom.path = paths[i];
            oom.index = i;
            oom.failed = true;
            err_set(&oom.err, "%s: out of memory", paths[i]);
            rc = fn(ctx, &oom);
            r = NULL;
        } else {
            rc = fn(ctx, r);
        }
        result_free(r);
        pthread_mutex_lock(&b.lock);
        b.done[i] = NULL;
        b.held -= b.charge[i];
        b.charge[i] = 0;
        b.consumed = i + 1;
        if (rc != 0)
            b.stop = true;
        pthread_cond_broadcast(&b.cond);
        pthread_mutex_unlock(&b.lock);
        if (rc != 0)
            break;
    }
out:
    pthread_mutex_lock(&b.lock);
    b.stop = true;
    pthread_cond_broadcast(&b.cond);
    pthread_mutex_unlock(&b.lock);
    for (unsigned t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    for (size_t i = 0; i < n; i++)
        if (b.done[i] != (struct scan_file_result *)&b)
            result_free(b.done[i]);
    free(b.done);
    free(b.charge);
    pthread_cond_destroy(&b.cond);
    pthread_mutex_destroy(&b.lock);
    return rc;
}
