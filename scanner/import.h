/* civreg scanner: importing a stack of scans as evidence.
 *
 * `civreg scan import` walks files and folders in natural sort order,
 * decodes every page (threads, see batch.h), reads its barcodes and quality,
 * follows separator sheets to assign volumes and page numbers, and stores
 * for each file, in one transaction: the original bytes and a downscaled
 * preview of each page as evidence blobs, one scan_pages row per page, and
 * one signed scan.import event naming them. A file whose bytes were imported
 * before adds nothing; a run killed midway loses at most the file in
 * progress and the next run picks up where it stopped.
 *
 * The scanner does not depend on the registry: evidence storage and event
 * signing come through struct scan_import_sink, which the caller (the
 * civreg command) connects to registry_blob_put and registry_event_append.
 */
#ifndef CIVREG_SCANNER_IMPORT_H
#define CIVREG_SCANNER_IMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct db;

struct scan_import_sink {
    void *ctx;
    size_t max_blob; /* largest blob put_blob accepts (bytes) */
    /* Store LEN bytes as evidence (an existing identical blob is kept);
     * HASH receives the lowercase SHA-256 hex. Runs inside the importer's
     * transaction. */
    int (*put_blob)(void *ctx, const void *p, size_t len, const char *media_type, char hash[65],
                    struct err *err);
    /* Append one signed event (objects: [{kind,id,hash}], data: object);
     * runs inside the importer's transaction. *SEQ gets its position. */
    int (*append_event)(void *ctx, const char *type, const json_t *objects, const json_t *data,
                        uint64_t *seq, struct err *err);
};

struct scan_import_progress {
    size_t files_total, files_done, files_failed;
    size_t pages_total;   /* counted before decoding (TIFF directories) */
    size_t pages_done;    /* added, skipped, or in files that failed */
    size_t pages_added, pages_skipped;
    double seconds; /* since the start */
};

struct scan_import_opts {
    const char *office; /* this office's code (ids are prefixed with it) */
    const char *actor;  /* the signed-in user's name, recorded with the import */
    unsigned jobs;      /* decoding threads (0: one per CPU) */
    uint32_t preview_side; /* longest side of previews in pixels (0: 1200) */
    size_t memory_budget;  /* decoded pages held at once, bytes (0: the batch
                              default; civreg.conf scan_memory_mb) */
    /* Called after each file on the calling thread (may be NULL). */
    void (*progress)(void *ctx, const struct scan_import_progress *p);
    void *progress_ctx;
};

struct scan_import_summary {
    char import_id[64];
    size_t files_total, files_imported, files_skipped, files_failed;
    size_t pages_added, pages_skipped, separators, flagged_pages;
    size_t volumes;       /* distinct volumes pages were added to */
    double seconds;
    json_t *errors;       /* [{file, error}] (owned; scan_import_summary_release) */
};

/* Collect the regular files under PATHS (files as given, folders walked
 * recursively, dot files skipped) in natural sort order ("page-2" before
 * "page-10"). *OUT is a malloc'd array of malloc'd paths. Fails naming a
 * path that does not exist or cannot be read. */
int scan_collect_files(char *const *paths, size_t n, char ***out, size_t *count,
                       struct err *err) __attribute__((warn_unused_result));
void scan_free_files(char **files, size_t count);

/* Natural order of two strings: runs of digits compare as numbers. */
int scan_natural_compare(const char *a, const char *b);

/* Import FILES (already collected) into DB through SINK. Per-file problems
 * (unreadable, corrupt, too large) are counted and listed in the summary and
 * do not stop the import; returns -1 only when the import itself cannot go
 * on (database errors). SUMMARY is filled in both cases. */
int scan_import(struct db *db, const struct scan_import_sink *sink,
                const struct scan_import_opts *opts, char *const *files, size_t nfiles,
                struct scan_import_summary *summary, struct err *err)
    __attribute__((warn_unused_result));

void scan_import_summary_release(struct scan_import_summary *s);

struct conf;
/* The batch memory budget in bytes from civreg.conf's scan_memory_mb
 * (64 to 65536 MB; absent: SCAN_BATCH_MEMORY_DEFAULT). */
int scan_memory_budget(const struct conf *conf, size_t *bytes, struct err *err)
    __attribute__((warn_unused_result));

/* The summary as JSON (new reference). */
json_t *scan_import_summary_json(const struct scan_import_summary *s);

#endif
