/* civreg: the staff of a passport office in a fresh data directory, signed in
 * through the registry API: admin, two clerks (clerk1, clerk2), a registrar
 * (reg), an enrolment officer (enrol), an approver (appr) and an issuance
 * operator (oper), each with the password "XX-tundra-ferns-61" (XX: the first
 * two letters of the name). For the issuance benchmark (bench/issuance) and
 * the passport office concurrency test. Header-only so both build it. */
#ifndef CIVREG_OFFICE_STAFF_H
#define CIVREG_OFFICE_STAFF_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "db/db.h"
#include "registry/registry.h"

struct office_staff {
    struct registry_actor *admin, *clerk1, *clerk2, *reg, *enrol, *appr, *oper;
};

/* The members after the admin, in the order they are added. */
#define OFFICE_STAFF_MEMBERS 6
struct office_staff_member {
    const char *name;
    unsigned roles;
    struct registry_actor **actor; /* where in the struct office_staff */
};

static inline void office_staff_members(struct office_staff *s,
                                        struct office_staff_member m[OFFICE_STAFF_MEMBERS])
{
    const struct office_staff_member all[OFFICE_STAFF_MEMBERS] = {
        { "clerk1", ROLE_CLERK, &s->clerk1 },
        { "clerk2", ROLE_CLERK, &s->clerk2 },
        { "reg", ROLE_REGISTRAR, &s->reg },
        { "enrol", ROLE_ENROLMENT_OFFICER, &s->enrol },
        { "appr", ROLE_APPROVER, &s->appr },
        { "oper", ROLE_ISSUANCE_OPERATOR, &s->oper },
    };
    memcpy(m, all, sizeof all);
}

/* NAME's password: "XX-tundra-ferns-61". */
static inline void office_staff_password(const char *name, char *pw, size_t size)
{
    snprintf(pw, size, "%.2s-tundra-ferns-61", name);
}

static inline int office_staff_login(struct db *db, const char *keys, const char *user,
                                     struct registry_actor **out, const char **what,
                                     struct err *err)
{
    char pw[64];
    office_staff_password(user, pw, sizeof pw);
    *what = user;
    return registry_authenticate(db, keys, user, pw, out, err);
}

/* Adds the admin (office HQ), signs in, adds the others and signs them in,
 * into S. Returns 0, or -1 with ERR and WHAT naming the failed step ("admin",
 * "user add", or the name that could not sign in). */
static inline int office_staff_open(struct db *db, const char *keys, struct office_staff *s,
                                    const char **what, struct err *err)
{
    struct office_staff_member staff[OFFICE_STAFF_MEMBERS];
    struct registry_user_new admin = { "admin", "ad-tundra-ferns-61", ROLE_ADMIN, "HQ" };
    size_t n = OFFICE_STAFF_MEMBERS;

    *s = (struct office_staff){ 0 };
    office_staff_members(s, staff);
    *what = "admin";
    if (registry_user_add(db, keys, NULL, &admin, err) != 0 ||
        office_staff_login(db, keys, "admin", &s->admin, what, err) != 0)
        return -1;
    *what = "user add";
    for (size_t i = 0; i < n; i++) {
        char pw[64];
        struct registry_user_new u = { staff[i].name, pw, staff[i].roles, "HQ" };
        office_staff_password(staff[i].name, pw, sizeof pw);
        if (registry_user_add(db, keys, s->admin, &u, err) != 0)
            return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (office_staff_login(db, keys, staff[i].name, staff[i].actor, what, err) != 0)
            return -1;
    return 0;
}

static inline void office_staff_free(struct office_staff *s)
{
    struct office_staff_member m[OFFICE_STAFF_MEMBERS];

    office_staff_members(s, m);
    registry_actor_free(s->admin);
    for (size_t i = 0; i < OFFICE_STAFF_MEMBERS; i++)
        registry_actor_free(*m[i].actor);
    *s = (struct office_staff){ 0 };
}

/* The example birth record made a different person to duplicate detection
 * for each K: given name "Person K", a family name and a birth date from K
 * (no two K with the same family name are born within a year of each other,
 * so no pair reaches the duplicate threshold), register entry ENTRY_BASE + K,
 * no registration date. A new reference, NULL when out of memory. */
static inline json_t *office_distinct_record(int k, int entry_base)
{
    static const char *const family[] = { "Achterberg", "Castellanos", "Dimitriou", "Fujimoto",
                                           "Gallagher",  "Jankowski",   "Lindqvist", "Nakamura" };
    json_t *rec = registry_record_example();
    char given[32], date[16];

    if (rec == NULL)
        return NULL;
    snprintf(given, sizeof given, "Person %d", k);
    snprintf(date, sizeof date, "%04d-%02d-15", 1940 + k % 70, 1 + k % 12);
    json_object_set_new(json_object_get(rec, "child"), "given_names", json_string(given));
    json_object_set_new(json_object_get(rec, "child"), "family_name", json_string(family[k % 8]));
    json_object_set_new(json_object_get(rec, "birth"), "date", json_string(date));
    json_object_set_new(json_object_get(rec, "register"), "entry", json_integer(entry_base + k));
    json_object_del(rec, "registration_date");
    return rec;
}

#endif
