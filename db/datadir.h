/* civreg db: the data directory.
 *
 *   DIR/civreg.db     SQLite database (WAL)
 *   DIR/blobs/        evidence, content-addressed by SHA-256 (ab/cd/<hash>)
 *   DIR/keys/         sealed keys, mode 0700
 *   DIR/civreg.conf   installation settings (key = value)
 *
 * Nothing outside DIR is written.
 */
#ifndef CIVREG_DB_DATADIR_H
#define CIVREG_DB_DATADIR_H

#include "core/conf.h"
#include "core/err.h"
#include "db.h"

#define DATADIR_DEFAULT "./civreg-data"
#define DATADIR_DEFAULT_COUNTRY "UTO"
#define DATADIR_DEFAULT_OFFICE "HQ"
#define DATADIR_DEFAULT_OFFICE_NAME "Head office"
#define DATADIR_DEFAULT_LISTEN "127.0.0.1:8080"

struct datadir_init_opts {
    const char *country;     /* ICAO Doc 9303-3 code: 1-3 letters; NULL = UTO */
    const char *office;      /* office code [A-Z0-9]{2,8}; NULL = HQ */
    const char *office_name; /* UTF-8, one line; NULL = "Head office" */
    const char *conf_extra;  /* more civreg.conf lines, written as given (the
                              * caller's own text, not input); NULL = none */
};

struct datadir {
    char *dir;
    char *db_path;
    char *blobs_dir;
    char *keys_dir;
    char *conf_path;
    struct conf *conf;
};

/* Create a data directory at DIR. Refuses, changing nothing, when DIR is a
 * file, already holds a data directory, or is a non-empty folder. A failure
 * midway leaves nothing behind. */
int datadir_init(const char *dir, const struct datadir_init_opts *opts, struct err *err)
    __attribute__((warn_unused_result));

/* Open an existing data directory: check its layout and read civreg.conf.
 * Free with datadir_free (NULL is a no-op). */
int datadir_open(const char *dir, struct datadir **out, struct err *err)
    __attribute__((warn_unused_result));
void datadir_free(struct datadir *d);

/* Open the data directory's database (flags as db_open; DB_OPEN_CREATE is
 * never passed, the database must exist). */
int datadir_db_open(const struct datadir *d, unsigned flags, struct db **out, struct err *err)
    __attribute__((warn_unused_result));

/* Validation shared with other modules. Return 0 or -1 with a message. */
int datadir_check_country(const char *code, struct err *err);
int datadir_check_office_code(const char *code, struct err *err);

#endif
