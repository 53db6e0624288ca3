/* civreg tests: the national tier fixture (national.c) shared by the tests
 * that run a real PostgreSQL 15 server (tests/support/pg_cluster.sh), the
 * real `civreg national serve` on loopback and district data directories. */
#ifndef CIVREG_TEST_NATIONAL_H
#define CIVREG_TEST_NATIONAL_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

struct national {
    char *root;        /* the temporary folder of the group */
    char pg_dir[4200]; /* the PostgreSQL cluster in ROOT/pg */
    char pg_url[4400];
    /* the district staff's password files, ROOT/NAME.pw (STAFF_PW_*) */
    char pw_admin[4200], pw_c1[4200], pw_c2[4200], pw_reg[4200];
    json_t *example; /* `civreg record draft --example` */
    pid_t serve_pid; /* `civreg national serve`, -1 when not running */
    int serve_port;
    char serve_url[64];
};

/* tests/support/pg_cluster.sh CMD DIR [MODE [PRIMARY]]; the last line it
 * prints (the server's URL) into URL_OUT when given. Returns its exit status
 * (77: the PostgreSQL server binaries are absent), -1 when it cannot run. */
int pg_cluster(const char *cmd, const char *dir, const char *mode, const char *primary,
               char *url_out, size_t url_size);

/* psql URL -Atqc SQL: the single value (malloc'd); the test fails unless
 * psql exits 0. psql_long: the value as a number. */
char *psql(const char *url, const char *sql);
long psql_long(const char *url, const char *sql);

/* A cmocka group set-up: a temporary folder tagged TAG, a PostgreSQL server
 * in it with the national schema, the staff password files and the example
 * record. Exits 77 (CTest: skipped) when PostgreSQL is not installed.
 * Returns 0, -1 on failure. */
int national_setup(struct national *n, const char *tag);
/* Stop the service and the server, remove the folder (kept when
 * CIVREG_KEEP_TMP is set). */
void national_teardown(struct national *n);

/* Start `national serve --pg PG_URL --listen 127.0.0.1:0` with EXTRA (more
 * arguments, NULL-terminated); its port into N->serve_port, its URL with SCHEME into
 * N->serve_url. */
void national_serve_start(struct national *n, const char *pg_url, const char *const extra[],
                          const char *scheme);
/* Send SIG to the service and wait for it; a no-op when it is not running. */
void national_serve_stop(struct national *n, int sig);

/* A district office OFFICE in ROOT/district-OFFICE (path into DATA) with
 * admin, clerk1, clerk2 (clerks) and reg (registrar, auditor). */
void national_district(struct national *n, const char *office, char *data, size_t size);
/* `audit head` of DATA as JSON (caller decrefs); the test fails unless it
 * answers. */
json_t *national_audit_head(const char *data);
/* The office public key of DATA (64 hex, malloc'd). */
char *national_office_key(const char *data);
/* `national office-add` of OFFICE with KEY. */
void fixture_office_add(struct national *n, const char *office, const char *key);
/* `audit head` of DATA: its tree size. */
long national_local_size(const char *data);
/* national_district, then that office registered nationally with its key
 * (`national office-add`). */
void national_district_registered(struct national *n, const char *office, char *data,
                                  size_t size);

/* The example record with GIVEN and the birth date DATE, no registration
 * date (compact JSON, malloc'd). */
char *national_record_json(const struct national *n, const char *given, const char *date);
/* Draft (clerk1) and verify (clerk2) that record in DATA: its id (malloc'd). */
char *national_draft_verified(const struct national *n, const char *data, const char *given,
                              const char *date);
/* `record register ID` by reg: 0 and the UIN into UIN, or the exit status
 * and its stderr into *ERROUT (malloc'd) when ERROUT is not NULL. */
int national_try_register(const struct national *n, const char *data, const char *id,
                          char uin[16], char **errout);
/* Draft, verify and register a birth in DATA; the test fails unless it is
 * registered. Its UIN into UIN. */
void national_register_birth(const struct national *n, const char *data, const char *given,
                             const char *date, char uin[16]);

#endif
