/* civreg tests: a registry opened in this process rather than through the
 * civreg binary. Header-only, for the tests that link db/ and registry/. */
#ifndef CIVREG_TEST_INPROC_H
#define CIVREG_TEST_INPROC_H

#include <stdio.h>

#include "db/datadir.h"
#include "registry/registry.h"
#include "support/support.h"

/* DIR/data (its path into DATA, SIZE bytes) made and opened: the data
 * directory in *DD, its database in *DB (the caller closes both). The test
 * fails (cmocka) when it cannot. */
static inline void inproc_datadir(const char *dir, char *data, size_t size, struct datadir **dd,
                                  struct db **db)
{
    struct err err = ERR_INIT;

    snprintf(data, size, "%s/data", dir);
    if (datadir_init(data, NULL, &err) != 0 || datadir_open(data, dd, &err) != 0 ||
        datadir_db_open(*dd, 0, db, &err) != 0)
        fail_msg("%s", err_msg(&err));
}

/* What inproc_datadir or inproc_first_admin opened, closed: DB, DD, and the
 * temporary folder *DIR removed and freed (*DIR becomes NULL). */
static inline void inproc_close(struct db *db, struct datadir *dd, char **dir)
{
    db_close(db);
    datadir_free(dd);
    tmp_free(dir);
}

/* Add NAME with ROLES and password PW at office HQ, by ADMIN (NULL for the
 * first user). The test fails unless it is added. */
static inline void inproc_user_add(struct db *db, const char *keys, struct registry_actor *admin,
                                   const char *name, unsigned roles, const char *pw)
{
    struct err err = ERR_INIT;
    struct registry_user_new u = { name, pw, roles, "HQ", false };

    if (registry_user_add(db, keys, admin, &u, &err) != 0)
        fail_msg("user add %s: %s", name, err_msg(&err));
}

/* Sign NAME in with password PW: the actor (the caller frees it). The test
 * fails unless it signs in. */
static inline struct registry_actor *inproc_authenticate(struct db *db, const char *keys,
                                                         const char *name, const char *pw)
{
    struct err err = ERR_INIT;
    struct registry_actor *a = NULL;

    if (registry_authenticate(db, keys, name, pw, &a, &err) != 0)
        fail_msg("sign-in %s: %s", name, err_msg(&err));
    return a;
}

/* A fresh temporary folder for TAG (its path into *DIR, the caller frees it)
 * holding a data directory opened as inproc_datadir does, whose first user,
 * "admin" with password PW, is signed in: the actor (the caller frees it).
 * The test fails (cmocka) when any step does. */
static inline struct registry_actor *inproc_first_admin(const char *tag, char **dir, char *data,
                                                        size_t size, struct datadir **dd,
                                                        struct db **db, const char *pw)
{
    *dir = tmp_dir(tag);
    if (*dir == NULL)
        fail_msg("%s: no temporary folder", tag);
    inproc_datadir(*dir, data, size, dd, db);
    inproc_user_add(*db, (*dd)->keys_dir, NULL, "admin", ROLE_ADMIN, pw);
    return inproc_authenticate(*db, (*dd)->keys_dir, "admin", pw);
}

#endif
