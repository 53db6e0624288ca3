/* civreg scanner: decoding and analysing many files on several threads,
 * with results handed back in input order on the calling thread.
 *
 * Offices scan thousands of pages a day; decoding and barcode reading are
 * CPU-bound and independent per file, so they run on JOBS worker threads
 * (each with its own ZBar reader) while the caller consumes results one
 * file at a time, in order (printing, storing). At most 2 x JOBS files are
 * held in memory at once (JOBS + 1 when their decoded pages are kept), and
 * together they stay within a memory budget: before a file is decoded, its
 * headers tell what its pages will cost (scan_probe: file bytes + pixels +
 * the working copies of its largest page for barcode and quality passes);
 * files are admitted in order while the sum of what is held fits, and a
 * file that alone exceeds the budget fails without being decoded. */
#ifndef CIVREG_SCANNER_BATCH_H
#define CIVREG_SCANNER_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "analyze.h"

struct scan_file_result {
    const char *path;
    size_t index;                     /* position in the input list */
    bool failed;                      /* the file could not be read or decoded */
    struct err err;                   /* why, when failed */
    unsigned char *data;              /* the file's bytes (keep_data only) */
    size_t len;                       /* its size in bytes */
    struct scan_pages pages;          /* decoded pages (keep_pages only) */
    struct scan_page_report *reports; /* one per page */
    size_t nreports;
};

struct scan_batch_opts {
    unsigned what;    /* SCAN_ANALYZE_* bits */
    unsigned jobs;    /* worker threads; 0 = one per online CPU (at most 8) */
    bool no_retry;    /* no barcode retries on cleaned-up images */
    bool keep_pages;  /* keep the decoded pages in the result */
    bool keep_data;   /* keep the file's bytes in the result */
    const struct scan_limits *limits; /* NULL: defaults */
    const bool *read_only; /* per file (may be NULL): only read its bytes, do not
                              decode (the result has no pages) */
    size_t memory_budget;  /* bytes held at once; 0: SCAN_BATCH_MEMORY_DEFAULT */
};

#define SCAN_BATCH_MEMORY_DEFAULT ((size_t)1024 << 20)

/* Called on the calling thread for each file, in input order. Return 0 to
 * go on, non-zero to stop the batch (scan_batch_run then returns that). */
typedef int (*scan_batch_fn)(void *ctx, const struct scan_file_result *r);

/* Process N files. A file that fails to decode is reported through FN with
 * failed set; it does not stop the batch. Returns 0, FN's non-zero value,
 * or -1 with ERR set when the batch itself could not run (threads, memory). */
int scan_batch_run(const char *const *paths, size_t n, const struct scan_batch_opts *opts,
                   scan_batch_fn fn, void *ctx, struct err *err)
    __attribute__((warn_unused_result));

#endif
