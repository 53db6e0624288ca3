/* A throw-away migrated database in a fresh temporary folder, for unit tests
 * of the modules above db/ (header only: civreg_testsupport does not link
 * db/, the tests that include this do). */
#ifndef CIVREG_TESTS_TMPDB_H
#define CIVREG_TESTS_TMPDB_H

#include <stdio.h>

#include "core/err.h"
#include "db/db.h"
#include "support/support.h"

/* *DIR = tmp_dir(TAG), *DB = DIR/NAME opened with every migration applied.
 * Returns 0, or -1 after printing why. */
static inline int tmp_db_open(const char *tag, const char *name, char **dir, struct db **db)
{
    struct err err = ERR_INIT;
    char path[4096];

    *dir = tmp_dir(tag);
    if (*dir == NULL)
        return -1;
    (void)snprintf(path, sizeof path, "%s/%s", *dir, name);
    if (db_open(path, DB_OPEN_CREATE | DB_OPEN_MIGRATE, db, &err) != 0) {
        print_error("%s\n", err_msg(&err));
        return -1;
    }
    return 0;
}

/* Closes what tmp_db_open opened and removes the folder; *DB and *DIR
 * become NULL. */
static inline void tmp_db_close(char **dir, struct db **db)
{
    db_close(*db);
    *db = NULL;
    tmp_free(dir);
}

/* The cmocka group `setup` of a test file whose tests share one database,
 * VAR_DB (a static struct db *) opened by tmp_db_open(TAG, NAME) in the
 * temporary folder VAR_DIR (a static char *). */
#define TMP_DB_SETUP(var_dir, var_db, tag, name)                                           \
    static int setup(void **state)                                                         \
    {                                                                                      \
        (void)state;                                                                       \
        return tmp_db_open(tag, name, &(var_dir), &(var_db));                              \
    }

/* TMP_DB_SETUP and the group `teardown` closing and removing what it made. */
#define TMP_DB_FIXTURE(var_dir, var_db, tag, name)                                         \
    TMP_DB_SETUP(var_dir, var_db, tag, name)                                               \
    static int teardown(void **state)                                                      \
    {                                                                                      \
        (void)state;                                                                       \
        tmp_db_close(&(var_dir), &(var_db));                                               \
        return 0;                                                                          \
    }

#endif
