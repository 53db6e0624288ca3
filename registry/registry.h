/* civreg registry: users and keys, evidence, the provenance log, birth
 * records, persons. The public API shared by the civreg command and the web
 * server: both call the same functions with an authenticated actor, so the
 * same checks run and the same signed events are written.
 *
 * Conventions: functions return 0 on success and -1 on failure with a
 * message in ERR (lowercase, naming what failed). json_t results are new
 * references the caller json_decref()s; json_t inputs are borrowed. Every
 * write runs in a transaction (nested as a savepoint when the caller already
 * holds one) and appends signed events to the log. Nothing here prints.
 *
 * See docs/registry.md for the record JSON, the event format and the audit.
 */
#ifndef CIVREG_REGISTRY_H
#define CIVREG_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

struct db;

/* ---- users, roles, keys (users.c, keys.c) ---- */

enum registry_role {
    ROLE_CLERK = 1 << 0,
    ROLE_REGISTRAR = 1 << 1,
    ROLE_ENROLMENT_OFFICER = 1 << 2,
    ROLE_APPROVER = 1 << 3,
    ROLE_ISSUANCE_OPERATOR = 1 << 4,
    ROLE_AUDITOR = 1 << 5,
    ROLE_ADMIN = 1 << 6,
};
#define REGISTRY_ROLES_ALL 0x7fu
/* The roles that read or write personal data. Separation of duties: the
 * admin role (accounts) is never combined with any of them. */
#define REGISTRY_ROLES_DATA                                                                      \
    (ROLE_CLERK | ROLE_REGISTRAR | ROLE_ENROLMENT_OFFICER | ROLE_APPROVER |                      \
     ROLE_ISSUANCE_OPERATOR | ROLE_AUDITOR)

/* An authenticated user: username, office, roles, and the user's Ed25519
 * signing key unsealed into guarded memory, plus the office's log-signing
 * key (one tree head signed per committed transaction that appended
 * events). Opaque. */
struct registry_actor;

/* Check USERNAME's PASSWORD (Argon2id, crypto_pwhash_str_verify) and unseal
 * the user's signing key and the office log key (from KEYS_DIR). Fails with
 * "invalid username or password" for an unknown user and a wrong password
 * alike, "account disabled" for a disabled one. *OUT is freed with
 * registry_actor_free. */
int registry_authenticate(struct db *db, const char *keys_dir, const char *username,
                          const char *password, struct registry_actor **out, struct err *err)
    __attribute__((warn_unused_result));

/* Wipe the keys and free; NULL is a no-op. */
void registry_actor_free(struct registry_actor *a);

/* Borrowed from A, valid while A lives. */
const char *registry_actor_username(const struct registry_actor *a);
const char *registry_actor_office(const struct registry_actor *a);
unsigned registry_actor_roles(const struct registry_actor *a);
/* The actor's Ed25519 public key (32 bytes, borrowed). */
const unsigned char *registry_actor_public_key(const struct registry_actor *a);

/* Role names: "clerk", "registrar", "enrolment_officer", "approver",
 * "issuance_operator", "auditor", "admin". */
const char *registry_role_name(unsigned role);
/* Parse a comma-separated list of role names into a bitmask. */
int registry_roles_parse(const char *list, unsigned *roles, struct err *err)
    __attribute__((warn_unused_result));
/* JSON array of the role names in ROLES (new reference, NULL when out of memory). */
json_t *registry_roles_json(unsigned roles);

/* Whether ROLES may be given to one user: at least one known role, and
 * admin alone (never with a data role). Returns 0, or -1 with "roles: ..." in
 * ERR. registry_user_add and registry_user_roles call it. */
int registry_roles_check(unsigned roles, struct err *err) __attribute__((warn_unused_result));

/* Is A's account still as it was when A authenticated: enabled, with the
 * same roles, epoch and password? Reads the users table now, so a change
 * made by another process (the CLI) counts. Returns 0 when it is, 1 when it
 * is not (disabled, roles changed, password changed or reset, user gone;
 * the reason in ERR), -1 on a database error. */
int registry_actor_current(struct db *db, const struct registry_actor *a, struct err *err)
    __attribute__((warn_unused_result));

/* ---- the password policy (password.c) ---- */

#define REGISTRY_PASSWORD_MIN 12   /* characters (UTF-8 code points) */
#define REGISTRY_PASSWORD_MAX 1024 /* bytes, before hashing */

enum registry_password_problem {
    REGISTRY_PASSWORD_OK = 0,
    REGISTRY_PASSWORD_TOO_SHORT,
    REGISTRY_PASSWORD_TOO_LONG,
    REGISTRY_PASSWORD_COMMON,       /* a common password, or one with a common word at its core */
    REGISTRY_PASSWORD_HAS_USERNAME, /* contains the user name */
};

/* Check PASSWORD, meant for USERNAME (may be NULL), against the policy:
 * REGISTRY_PASSWORD_MIN..MAX, not built on a common password (the embedded
 * list registry/passwords/common.txt, after lowercasing, removing digits and
 * punctuation at both ends and undoing letter substitutions), not containing
 * the user name. Returns REGISTRY_PASSWORD_OK (0) or the first problem found
 * with a message in ERR. Every operation that sets a password calls it. */
int registry_password_check(const char *username, const char *password, struct err *err)
    __attribute__((warn_unused_result));
/* A stable code for a problem ("password_too_short", ...) that user
 * interfaces translate; "password_ok" for REGISTRY_PASSWORD_OK. */
const char *registry_password_problem_code(int problem);

/* Fail with "USER (roles ...) may not WHAT: needs role X" unless A holds one
 * of the roles in NEED. */
int registry_require_role(const struct registry_actor *a, unsigned need, const char *what,
                          struct err *err) __attribute__((warn_unused_result));

/* ---- the access policy (access.c): one table from action to roles ---- */

/* An action ("record.read", "application.approve", ...), the roles that may
 * take it and what it is, for docs/access.md. Every role check of civreg
 * (registry, passport office, command line, web routes, browser) names one. */
struct registry_action {
    const char *name;
    unsigned roles;
    const char *what;
};
/* The table, ending with a NULL name. */
extern const struct registry_action registry_actions[];

/* The roles that may take ACTION; 0 for an action not in the table. */
unsigned registry_action_roles(const char *action);
/* Whether one of ROLES may take ACTION. */
bool registry_roles_may(unsigned roles, const char *action);
/* 0 when A may take ACTION, else -1 with an ERR_FORBIDDEN "ACTION: refused:
 * user 'U' does not hold the R role", the action in words ("audit trace")
 * (ERR_INTERNAL for an unknown action). */
int registry_require_action(const struct registry_actor *a, const char *action,
                            struct err *err) __attribute__((warn_unused_result));
/* JSON array of the actions ROLES may take (new reference; NULL when out of
 * memory). Sent to the browser at sign-in. */
json_t *registry_actions_json(unsigned roles);
/* The table as a Markdown table (docs/access.md); caller frees; NULL when out
 * of memory. */
char *registry_access_markdown(void);

struct registry_user_new {
    const char *username; /* [a-z0-9._-]{2,32} */
    const char *password; /* meets registry_password_check */
    unsigned roles;
    const char *office; /* an office in table offices */
    /* Demo mode only (`civreg serve --demo`): waive the password policy so
     * the demo users can have the password "demo". Never set for real users. */
    bool demo_password;
    /* The full name shown to people ("Amina Otieno"), or NULL: 1 to 100
     * bytes of UTF-8 without control characters. Signed in user.add's data
     * (and so its object hash) when given; kept in table users. */
    const char *name;
};

/* 0 when NAME is NULL or a valid full name (see registry_user_new.name),
 * else -1 with ERR saying why. */
int registry_user_name_check(const char *name, struct err *err) __attribute__((warn_unused_result));

/* Create a user with a fresh Ed25519 key sealed under their password; logs
 * user.add with the public key. ACTOR must be an admin; it may be NULL only
 * while no user exists (the first user must hold the admin role; the office
 * log key is created then, in KEYS_DIR). */
int registry_user_add(struct db *db, const char *keys_dir, const struct registry_actor *actor,
                      const struct registry_user_new *u, struct err *err)
    __attribute__((warn_unused_result));

/* Change USERNAME's password: the signing key is unsealed with OLD and
 * sealed again under NEW (the key itself does not change). Logs user.passwd
 * signed by the user. */
int registry_user_passwd(struct db *db, const char *keys_dir, const char *username,
                         const char *old_password, const char *new_password, struct err *err)
    __attribute__((warn_unused_result));

/* An admin resets USERNAME's forgotten password. The old sealed key cannot
 * be opened without the old password, so the user gets a new Ed25519 key
 * pair sealed under NEW_PASSWORD; the new public key is logged (user.key,
 * signed by the admin). Everything signed with the old key stays
 * verifiable: the audit uses the key valid at each event's position. */
int registry_user_reset(struct db *db, const struct registry_actor *actor, const char *username,
                        const char *new_password, struct err *err)
    __attribute__((warn_unused_result));

/* Set USERNAME's roles to ROLES (admin only; an admin cannot change their
 * own roles; ROLES must pass registry_roles_check). Logs user.roles with the
 * user's new content (as user.add); the user's sessions end. */
int registry_user_roles(struct db *db, const struct registry_actor *actor, const char *username,
                        unsigned roles, struct err *err) __attribute__((warn_unused_result));

/* Disable USERNAME (admin only; an admin cannot disable themselves). Every
 * change to a user (disable, roles, passwd, reset) adds one to the user's
 * epoch, which ends the sessions opened before it. */
int registry_user_disable(struct db *db, const struct registry_actor *actor, const char *username,
                          struct err *err) __attribute__((warn_unused_result));

/* All users: [{username, office, roles[], public_key, disabled, created_at}]
 * (admin or auditor). */
int registry_user_list(struct db *db, const struct registry_actor *actor, json_t **out,
                       struct err *err) __attribute__((warn_unused_result));

/* ---- the provenance log (eventlog.c) ---- */

/* Append one event: builds {v, seq, type, actor, office, time, objects,
 * data}, canonicalizes it (RFC 8785), signs it with the actor's key, appends
 * the leaf H(0x00 || body || signature) to the Merkle tree; the outermost
 * transaction holding it has the office key sign one tree head
 * (civreg.tree_head.v2) just before it commits. Runs inside the caller's
 * transaction when there is one (as a savepoint), else in its own.
 *   TYPE     dotted name, e.g. "record.register", "pki.csca.create"
 *   OBJECTS  array of {"kind", "id", "hash"[, "prev"]} the event touches
 *            (hash: SHA-256 hex of the object's canonical content)
 *   DATA     object with anything else worth signing, or NULL
 * *SEQ (may be NULL) receives the event's position in the log. */
int registry_event_append(struct db *db, const struct registry_actor *actor, const char *type,
                          const json_t *objects, const json_t *data, uint64_t *seq,
                          struct err *err) __attribute__((warn_unused_result));

/* Write the tree-head witness (keys/tree-head.json) for the log as DB now
 * holds it, outside any transaction: after a commit made by the caller
 * rather than by the registry (a group commit, db/group.h), which the
 * registry's own functions cannot see. Failures are only logged. */
void registry_witness_refresh(struct db *db, const struct registry_actor *actor);

/* The same, with TIME ("YYYY-MM-DDTHH:MM:SSZ", NULL: now) as the event's
 * time: an event of version 2, whose rows the caller writes with exactly
 * TIME, so `audit verify` rebuilds their time columns from the log. */
int registry_event_append_at(struct db *db, const struct registry_actor *actor, const char *type,
                             const json_t *objects, const json_t *data, const char *time,
                             uint64_t *seq, struct err *err) __attribute__((warn_unused_result));

/* Helper for OBJECTS: {"kind": KIND, "id": ID, "hash": HASH[, "prev": PREV]}
 * (PREV may be NULL). New reference. */
json_t *registry_object_ref(const char *kind, const char *id, const char *hash, const char *prev);

/* SHA-256 hex (65 bytes with NUL) of the canonical JSON of V. */
int registry_json_hash(const json_t *v, char out[65], struct err *err)
    __attribute__((warn_unused_result));

/* The current log size and the latest signed tree head as JSON
 * {tree_size, root_hash, office, signed_at, signature, and previous_size
 * for a civreg.tree_head.v2 head}. */
int registry_log_head(struct db *db, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* ---- evidence (blobs.c) ---- */

#define REGISTRY_BLOB_MAX ((size_t)64 << 20) /* 64 MiB per file */

/* Store LEN bytes in BLOBS_DIR/ab/cd/<sha256> (temporary file, fsync,
 * rename, fsync of the folder; an existing identical blob is kept) and its
 * metadata in the database; logs evidence.add the first time. HASH receives
 * the lowercase hex SHA-256. MEDIA_TYPE like "image/png" (NULL =
 * application/octet-stream). */
int registry_blob_put(struct db *db, const char *blobs_dir, const struct registry_actor *actor,
                      const void *p, size_t len, const char *media_type, char hash[65],
                      struct err *err) __attribute__((warn_unused_result));

/* Read a blob back, re-hashing it: fails naming the file when its bytes no
 * longer match their name. *P is malloc'd (caller frees). */
int registry_blob_get(struct db *db, const char *blobs_dir, const char *hash, unsigned char **p,
                      size_t *len, struct err *err) __attribute__((warn_unused_result));

/* Metadata of a blob: {hash, size, media_type, added_by, added_at, event}
 * (for serving evidence with its media type). */
int registry_blob_info(struct db *db, const char *hash, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* Whether HASH is a known blob (0 yes, -1 with a message naming it). */
int registry_blob_exists(struct db *db, const char *hash, struct err *err)
    __attribute__((warn_unused_result));

/* ---- birth records (records.c, record_fields.c) ---- */

/* A complete valid record JSON (the documented example). New reference. */
json_t *registry_record_example(void);

/* Plausibility of a normalized record REC on the day TODAY ("YYYY-MM-DD"),
 * with partial dates compared on what they state. Refused, with a code and
 * the field: a date after today ("date_in_future"), a registration before
 * the birth ("registration_before_birth"), a parent born on or after the
 * child ("parent_born_after_child"). Doubts the clerk confirms against the
 * register are appended to WARNINGS (when not NULL) as {code, field, years}:
 * a parent younger than REGISTRY_PARENT_MIN_AGE ("parent_too_young") or
 * older than REGISTRY_PARENT_MAX_AGE ("parent_too_old") at the birth. */
#define REGISTRY_PARENT_MIN_AGE 10
#define REGISTRY_PARENT_MAX_AGE 70
int registry_record_plausible(const json_t *rec, const char *today, json_t *warnings,
                              struct err *err);

/* Validate and normalize a record JSON (NFC strings, partial dates, enums).
 * *OUT is the normalized copy (new reference). Messages name the field. */
int registry_record_normalize(const json_t *in, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* Key a new record as a draft (clerk). *ID receives its id (malloc'd). */
int registry_record_draft(struct db *db, const struct registry_actor *actor, const json_t *record,
                          char **id, struct err *err) __attribute__((warn_unused_result));

/* Draft N records in one transaction (bulk import of a register). Each
 * record is validated on its own: IDS[i] receives the new id (malloc'd) or
 * NULL, and ERRS[i] the reason when record i was refused. Returns the
 * number drafted, or -1 when the transaction failed (then nothing of the
 * batch was stored and every IDS[i] is NULL). */
int registry_record_draft_batch(struct db *db, const struct registry_actor *actor,
                                json_t *const *records, size_t n, char **ids, struct err *errs,
                                struct err *err) __attribute__((warn_unused_result));

/* An import that remembers where each record came from: record i is line
 * LINES[i] (>= 1) of the JSON Lines file whose SHA-256 is FILE_HASH (64
 * lowercase hex). The pair is stored with the record (table
 * record_import_lines) and signed in its record.draft event (data.source),
 * so a line already drafted is never drafted again. */
struct registry_import_source {
    const char *file_hash;
    const long *lines;
};

/* Like registry_record_draft_batch, with a SOURCE: a line already imported
 * adds nothing; IDS[i] then receives the id of the record drafted from it
 * earlier and ALREADY[i] is set. Returns the number newly drafted, or -1
 * (nothing of the batch stored). */
int registry_record_import_batch(struct db *db, const struct registry_actor *actor,
                                 const struct registry_import_source *source,
                                 json_t *const *records, size_t n, char **ids, bool *already,
                                 struct err *errs, struct err *err)
    __attribute__((warn_unused_result));

/* Steps (registry_record_steps) or drafts (registry_record_import_batch)
 * of one bulk transaction at most. A transaction's events end at one signed
 * tree head, and a sync push ends at a head and carries at most
 * REGISTRY_PUSH_MAX_EVENTS: every step or draft appends at most two events,
 * so any bulk transaction can be pushed to the national tier. */
#define REGISTRY_BATCH_MAX 5000
/* Drafts a `civreg record import` transaction by default: a kill -9 loses at
 * most this many (drafted again when the import is run again). */
#define REGISTRY_IMPORT_BATCH 2000
#define REGISTRY_PUSH_MAX_EVENTS 10000

/* One step of a bulk batch of the record lifecycle (registry_record_steps):
 * what registry_record_draft, registry_record_verify or
 * registry_record_register does, by ACTOR. */
enum registry_step_kind {
    REGISTRY_STEP_DRAFT,    /* RECORD keyed as a new draft */
    REGISTRY_STEP_VERIFY,   /* RECORD re-keyed blind, for the record ID */
    REGISTRY_STEP_REGISTER, /* the record ID */
};
struct registry_step {
    enum registry_step_kind kind;
    const struct registry_actor *actor;
    const json_t *record; /* DRAFT, VERIFY */
    const char *id;       /* VERIFY, REGISTER: the record; NULL: the one drafted by step DRAFT */
    size_t draft;         /* with ID NULL: an earlier DRAFT step of the same batch */
    /* out */
    char *new_id;   /* DRAFT: the new record's id (malloc'd), NULL when refused */
    json_t *result; /* REGISTER: {id, registration_number, uin}; VERIFY: the mismatches */
    bool done;
    struct err err; /* why the step was refused */
};

/* Run the N STEPS in order in one transaction, with the same checks,
 * signed events, duplicate scans and refusals as the step-by-step calls,
 * but without a savepoint per step. A step refused (ERR set, DONE false)
 * leaves the others: a draft refused as registry_record_draft refuses it,
 * a re-keying that disagrees (its record.mismatch event is logged, as
 * registry_record_verify logs it), a registration held back by open
 * duplicates (the candidates found stay, as registry_record_register
 * leaves them) or refused for the record's status, a step whose DRAFT step
 * was refused. Returns the number of steps done, or -1 when the
 * transaction failed (a database failure after a step's first write: then
 * nothing of the batch was stored, no step is DONE, every NEW_ID and
 * RESULT is NULL). The caller frees NEW_ID and RESULT. DB copies its WAL
 * back on a checkpointer beside it and keeps a batch's changed pages in its
 * cache from then on (db_for_batches), as the import does: not for a group
 * commit's connection. */
int registry_record_steps(struct db *db, struct registry_step *steps, size_t n, struct err *err)
    __attribute__((warn_unused_result));
/* Free the NEW_ID and RESULT of the N STEPS (set to NULL), for the next
 * batch or the end. */
void registry_steps_release(struct registry_step *steps, size_t n);

/* SHA-256 (lowercase hex) of what F holds from its position to its end. */
int registry_file_sha256(FILE *f, char out[65], struct err *err)
    __attribute__((warn_unused_result));

/* The record drafted from line LINE of the file FILE_HASH: 0 with *ID
 * (malloc'd), 1 when that line was never imported, -1 on error. */
int registry_record_import_lookup(struct db *db, const char *file_hash, long line, char **id,
                                  struct err *err) __attribute__((warn_unused_result));

/* Blind second keying (clerk, not anyone who keyed a version of it).
 * Compares REKEYED field by field with the current version: when all agree
 * the record becomes verified and 0 is returned; otherwise -1 and
 * *MISMATCHES (may be NULL) receives [{field, verify}] (never the first
 * keying's value), and the disagreement is logged (record.mismatch with the
 * field names). After two disagreements on one version the record goes back
 * to its keyer: verification is refused until a correction. */
int registry_record_verify(struct db *db, const struct registry_actor *actor, const char *id,
                           const json_t *rekeyed, json_t **mismatches, struct err *err)
    __attribute__((warn_unused_result));

/* What a clerk doing the blind second keying of draft REF may know,
 * never the first keying's values: {id, status, version, evidence[],
 * keyed_by_me, rounds (disagreements so far on this version), fields (the
 * names the last one found different), sent_back (two disagreements: the
 * record went back to its keyer)}. Clerk; the record of the actor's office. */
int registry_record_blind(struct db *db, const struct registry_actor *actor, const char *ref,
                          json_t **out, struct err *err) __attribute__((warn_unused_result));

/* The actor's work queues (queues.c): {to_verify, sent_back, my_drafts}
 * each {count, records[{id, version, updated_at, keyed_by[, fields]}]}
 * (at most LIMIT records each; clerks only, empty for other roles) and
 * office{drafts, verified, registered, sent_back, duplicates}. */
int registry_work_queues(struct db *db, const struct registry_actor *actor, int limit,
                         json_t **out, struct err *err) __attribute__((warn_unused_result));

/* Keying progress of the register volume OFFICE/YEAR/VOLUME (queues.c):
 * the records of the actor's office whose register reference names it,
 * counted per register page: [{page, keyed, verified, registered}] by page
 * (verified counts registered records too). Clerk, registrar, auditor. */
int registry_volume_progress(struct db *db, const struct registry_actor *actor, const char *office,
                             int year, const char *volume, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* Whether record ID is closed: resolved as the same birth as an earlier
 * record. *CLOSED {state: "merged", into, reason, by, at} or NULL. */
int registry_record_closed(struct db *db, const char *id, json_t **closed, struct err *err)
    __attribute__((warn_unused_result));

/* Register a verified record (registrar): allocates the registration number
 * OFFICE/YEAR/NNNNNN, creates the person with a new UIN and the signed link
 * statement. *RESULT (may be NULL): {id, registration_number, uin}. */
int registry_record_register(struct db *db, const struct registry_actor *actor, const char *id,
                             json_t **result, struct err *err) __attribute__((warn_unused_result));

/* Correct a record: a new version with REASON and EVIDENCE (array of blob
 * hashes, may be NULL). Drafts and verified records: clerk or registrar, the
 * record returns to draft and needs verifying again. Registered records:
 * registrar only; a new link statement is signed. *VERSION (may be NULL)
 * receives the new version number. */
int registry_record_correct(struct db *db, const struct registry_actor *actor, const char *id,
                            const json_t *record, const char *reason, const json_t *evidence,
                            int *version, struct err *err) __attribute__((warn_unused_result));

/* A record (by id or registration number) at VERSION (0 = current):
 * {id, office, status, version, versions, registration_number, uin, hash,
 *  record, keyed_by, keyed_at, ...}. Any role. */
int registry_record_show(struct db *db, const struct registry_actor *actor, const char *id,
                         int version, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* Every version and every event of a record, oldest first. */
int registry_record_history(struct db *db, const struct registry_actor *actor, const char *id,
                            json_t **out, struct err *err) __attribute__((warn_unused_result));

/* Log that ACTOR was shown the record REF (id, registration number or UIN)
 * in full: a signed record.view event naming the record and its current
 * hash, with {via} (the route or command that showed it; may be NULL).
 * Call before the data leaves; when it fails, the data must not be shown. */
int registry_record_view(struct db *db, const struct registry_actor *actor, const char *ref,
                         const char *via, struct err *err) __attribute__((warn_unused_result));

/* The evidence HASH of record REF (listed by one of its versions or
 * corrections), re-hashed on the way out; the record must be of ACTOR's
 * office. Anything the store holds that the record does not list fails as
 * "no such evidence". *P is malloc'd (caller frees). */
int registry_record_evidence_get(struct db *db, const char *blobs_dir,
                                 const struct registry_actor *actor, const char *ref,
                                 const char *hash, unsigned char **p, size_t *len,
                                 struct err *err) __attribute__((warn_unused_result));

struct registry_record_filter {
    const char *status; /* "draft", "verified", "registered" or NULL */
    const char *office; /* NULL = the actor's; another office is refused */
    const char *born_from; /* date of birth on or after this YYYY-MM-DD; NULL = any */
    const char *born_to;   /* date of birth on or before this YYYY-MM-DD (a partly known
                              date such as 1987-03 counts as its first day); NULL = any */
    int limit;          /* 0 = 100 */
    int offset;
};
/* Records, newest first: [{id, status, version, registration_number, uin,
 * child name, date of birth, updated_at}]. */
int registry_record_list(struct db *db, const struct registry_actor *actor,
                         const struct registry_record_filter *f, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* ---- persons and identity numbers (persons.c, uin.c) ---- */

#define REGISTRY_UIN_LEN 10

/* A fresh UIN candidate: 9 random digits (libsodium) and a Verhoeff check
 * digit, no leading 0 or 1, no run or sequence of 3+ equal or consecutive
 * digits. Uniqueness is the caller's (persons.c retries on collision). */
void registry_uin_generate(char out[REGISTRY_UIN_LEN + 1]);
/* Check the format rules and the Verhoeff digit; names the rule broken. */
int registry_uin_check(const char *uin, struct err *err) __attribute__((warn_unused_result));
/* Verhoeff check digit of a string of decimal digits (0-9), or -1. */
int registry_verhoeff_digit(const char *digits, size_t len);

/* A person by UIN: {uin, record_id, registration_number, created_at, record
 * (current version), links[{statement, signature, signer, valid}]}. */
int registry_person_show(struct db *db, const struct registry_actor *actor, const char *uin,
                         json_t **out, struct err *err) __attribute__((warn_unused_result));

/* ---- deaths (deaths.c) ---- */

/* Validate and normalize the death fields (NFC text, dates): {date_of_death
 * YYYY-MM-DD, time_of_death? HH:MM, place{type facility|home|other,
 * facility?, locality, district}, cause_certificate?{reference, certifier?},
 * informant{name, relationship?, address?}, registration_date? (default
 * today), remarks?}. *OUT new reference. Messages name the field. */
int registry_death_normalize(const json_t *in, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* Register the death of the person UIN (registrar). Refused when the person
 * is unknown, already deceased, or the date precedes the birth. Allocates
 * OFFICE/D/YEAR/NNNNNN and logs a death.register event touching the death
 * and the person. *RESULT (may be NULL): {id, registration_number, uin,
 * date_of_death, hash, event}. */
int registry_death_register(struct db *db, const struct registry_actor *actor, const char *uin,
                            const json_t *death, json_t **result, struct err *err)
    __attribute__((warn_unused_result));

/* A registered death by UIN, death registration number or id (any role):
 * {id, uin, registration_number, date_of_death, death{...}, registered_by,
 * registered_at, event, hash}. */
int registry_death_show(struct db *db, const struct registry_actor *actor, const char *ref,
                        json_t **out, struct err *err) __attribute__((warn_unused_result));

/* Whether the person UIN has a registered death: *DECEASED true or false
 * (an unknown UIN is simply not deceased; check the person separately).
 * DEATH (may be NULL) receives the death as registry_death_show gives it
 * when deceased (new reference), else NULL. Needs no actor: issuance
 * (passport enrolment, certified extracts) calls it to refuse or annotate a
 * deceased person. A death registered in another district and kept from
 * the national tier (national_deaths) counts: DEATH then has "national":
 * true. Returns -1 only when the database fails. */
int registry_person_is_deceased(struct db *db, const char *uin, bool *deceased, json_t **death,
                                struct err *err) __attribute__((warn_unused_result));

/* ---- certified extracts (extracts.c) ---- */

/* The document type of a birth certificate extract seal (data.hdr.t). */
#define REGISTRY_EXTRACT_TYPE "civreg.birth-extract"

/* Seal DATA ({"hdr":{t,v,is},"msg":{...}}): *SEAL receives the whole
 * visible digital seal {"data": DATA, "sig": {...}} (new reference). The
 * registry does not hold the barcode signer's key: the caller passes this
 * (the CLI wires it to issuance's vds_seal + pki_barcode_sign). */
typedef int (*registry_seal_fn)(void *ctx, const json_t *data, json_t **seal, struct err *err);

/* Issue a certified extract of the registered birth record REF (record id,
 * registration number or UIN); clerk or registrar. Builds the sealed data
 * from the current version (msg keys in docs/extracts.md; a registered death
 * adds "dod"), has SEAL sign it, stores the extract and logs an
 * extract.issue event (objects: the extract with the SHA-256 of the payload,
 * the record version). *OUT (new reference): {id, record_id,
 * registration_number, uin, office, office_name, country, issued_at,
 * issued_by, seal, payload (the exact QR text), seal_sha256, event, record,
 * deceased, death?}. */
int registry_extract_issue(struct db *db, const struct registry_actor *actor, const char *ref,
                           registry_seal_fn seal, void *seal_ctx, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* The same, printed from the browser: REASON (may be NULL; at most 500
 * bytes) is signed in the extract.issue event; with REPRINT_RULE a record
 * that already has an extract is refused without a reason. */
int registry_extract_print(struct db *db, const struct registry_actor *actor, const char *ref,
                           const char *reason, bool reprint_rule, registry_seal_fn seal,
                           void *seal_ctx, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* The extracts issued of record REF: {record_id, extracts[{id, issued_by,
 * issued_at, reason?}]}, oldest first. Clerk, registrar, auditor. */
int registry_extract_list(struct db *db, const struct registry_actor *actor, const char *ref,
                          json_t **out, struct err *err) __attribute__((warn_unused_result));

/* ---- the national tier's word about other districts (national_evidence.c) ---- */

/* Verify the national tier's answer ANSWER (a civreg.bundle.v1 with its
 * "national" part) for UIN: the holding office's key is pinned on first use
 * (setting national.office_key.OFFICE; a different key later is refused),
 * the tree head is that office's and signed by it, every event is included
 * (RFC 6962) and signed, the link and record version hash to what signed
 * events name. *PERSON (new reference): {uin, record_id,
 * registration_number, record{id, status, version, record}, deceased,
 * national{office, office_key, tree_size, root_hash}}. A death the answer
 * reports is kept in national_deaths. ERR_INVALID on a failed check. */
int registry_national_person(struct db *db, const json_t *answer, const char *uin,
                             json_t **person, struct err *err) __attribute__((warn_unused_result));

/* Keep a death the national tier holds (registered in OFFICE, event EVENT_SEQ
 * of its log, -1 unknown). A UIN already kept is left as it is. */
int registry_national_death_add(struct db *db, const char *uin, const char *office,
                                const char *registration_number, const char *date_of_death,
                                long long event_seq, struct err *err)
    __attribute__((warn_unused_result));

/* {OFFICE: highest event_seq kept} of the national deaths (new reference). */
int registry_national_death_cursors(struct db *db, json_t **out, struct err *err)
    __attribute__((warn_unused_result));

/* The national death of UIN ({uin, office, registration_number,
 * date_of_death, received_at}), *DEATH NULL when none is kept. */
int registry_national_death_of(struct db *db, const char *uin, json_t **death, struct err *err)
    __attribute__((warn_unused_result));

/* Resolve the cross-district duplicate case DCASE ({id, office_a,
 * record_a, office_b, record_b} as the national tier lists it) that the
 * actor's office is party to: SAME (one person registered twice) or not,
 * with REASON. Appends a signed national.duplicate event naming the case
 * (object dup_case "OFFICE_A/RECORD_A|OFFICE_B/RECORD_B") and this
 * office's record; the next push records it nationally. Registrars only.
 * *SEQ the event. */
int registry_national_dup_resolve(struct db *db, const struct registry_actor *actor,
                                  const json_t *dcase, bool same, const char *reason,
                                  long long *seq, struct err *err)
    __attribute__((warn_unused_result));

/* ---- audit (audit.c, bundle.c) ---- */

struct registry_audit_stats {
    uint64_t events;      /* events checked */
    uint64_t tree_heads;  /* signed tree heads checked */
    uint64_t records;     /* record versions re-hashed */
    uint64_t blobs;       /* blob files re-hashed */
};

/* Re-hash every object and blob, check every signature, rebuild the Merkle
 * tree and check every signed tree head and the witness file in KEYS_DIR.
 * REPORT is called once per problem with a line naming the row, event or
 * file and what is wrong. OFFICE_KEY (32 bytes, may be NULL) pins the office
 * public key to trust. Returns the number of problems (0 = all holds) or -1
 * when the audit itself could not run (also when DB has a transaction open). */
int registry_audit_verify(struct db *db, const char *keys_dir, const char *blobs_dir,
                          const unsigned char *office_key,
                          void (*report)(void *ctx, const char *problem), void *ctx,
                          struct registry_audit_stats *stats, struct err *err);

/* The provenance of ID (a UIN, registration number or record id): the
 * person, every record version, every event with signer, time, signature
 * validity, evidence hashes and inclusion proof against the latest signed
 * tree head. ACTOR may be NULL for a local operator (the command line);
 * otherwise it must be an auditor, registrar or admin. */
int registry_audit_trace(struct db *db, const struct registry_actor *actor, const char *id,
                         json_t **out, struct err *err) __attribute__((warn_unused_result));

/* For each event of EVENTS (an array of trace events) whose "actor" has a
 * full name in table users, set NAMES[actor] = name: the name the
 * account's user.add signed, read from the table when the trace is asked
 * for. A trace carries them as "account_names" beside its events, which
 * name the username. */
int registry_account_names(struct db *db, const json_t *events, json_t *names, struct err *err)
    __attribute__((warn_unused_result));

/* Inclusion proof of event SEQ in the tree of SIZE leaves (0 = latest
 * signed head): {seq, tree_size, leaf_hash, root_hash, proof[]}. */
int registry_audit_inclusion(struct db *db, uint64_t seq, uint64_t size, json_t **out,
                             struct err *err) __attribute__((warn_unused_result));

/* Consistency proof between two tree sizes (SIZE2 0 = latest):
 * {size1, size2, root1, root2, proof[]}. */
int registry_audit_consistency(struct db *db, uint64_t size1, uint64_t size2, json_t **out,
                               struct err *err) __attribute__((warn_unused_result));

/* A self-contained bundle for ID: the events with their bodies and
 * signatures, the users' public keys as logged, record versions, link
 * statements, the signed tree head and inclusion proofs. ACTOR as in
 * registry_audit_trace. */
int registry_audit_export(struct db *db, const struct registry_actor *actor, const char *id,
                          json_t **bundle, struct err *err) __attribute__((warn_unused_result));

/* Verify a bundle with no database, trusting only OFFICE_KEY (32 bytes).
 * REPORT gets one line per problem; returns the number of problems or -1. */
int registry_bundle_verify(const json_t *bundle, const unsigned char office_key[32],
                           void (*report)(void *ctx, const char *problem), void *ctx,
                           struct err *err);

/* The office public key (32 bytes) of OFFICE from the database. */
int registry_office_public_key(struct db *db, const char *office, unsigned char out[32],
                               struct err *err) __attribute__((warn_unused_result));

#endif
