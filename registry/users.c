/* civreg registry: users, roles and their signing keys.
 *
 * A password is stored only as an Argon2id hash (crypto_pwhash_str). Each
 * user's Ed25519 secret key is sealed (core/seal.h) under a key derived from
 * the password with Argon2id and a per-user salt, with the associated data
 * "user-key:<username>", so the sealed key cannot be moved to another user
 * and a database administrator cannot sign as anyone. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/seal.h"
#include "core/secret.h"
#include "core/utf8.h"
#include "db/rows.h"
#include "registry_int.h"

#define PASSWORD_MAX REGISTRY_PASSWORD_MAX

static const char *const role_names[] = { "clerk",    "registrar", "enrolment_officer",
                                          "approver", "issuance_operator", "auditor",
                                          "admin" };
#define ROLE_COUNT (sizeof role_names / sizeof role_names[0])

const char *registry_role_name(unsigned role)
{
    for (unsigned i = 0; i < ROLE_COUNT; i++)
        if (role == 1u << i)
            return role_names[i];
    return "unknown";
}

int registry_roles_parse(const char *list, unsigned *roles, struct err *err)
{
    const char *p = list;

    *roles = 0;
    if (list == NULL || *list == '\0')
        return err_set(err, "roles: none given (clerk, registrar, enrolment_officer, approver, "
                            "issuance_operator, auditor, admin)");
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        bool found = false;
        for (unsigned i = 0; i < ROLE_COUNT; i++) {
            if (strlen(role_names[i]) == n && memcmp(role_names[i], p, n) == 0) {
                *roles |= 1u << i;
                found = true;
            }
        }
        if (!found)
            return err_set(err, "roles: unknown role '%.*s' (clerk, registrar, enrolment_officer, "
                                "approver, issuance_operator, auditor, admin)",
                           (int)(n > 40 ? 40 : n), p);
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

json_t *registry_roles_json(unsigned roles)
{
    json_t *a = json_array();

    for (unsigned i = 0; a && i < ROLE_COUNT; i++)
        if ((roles & (1u << i)) && json_array_append_new(a, json_string(role_names[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

int registry_require_role(const struct registry_actor *a, unsigned need, const char *what,
                          struct err *err)
{
    struct buf names = BUF_INIT(256);
    int rc;

    if (a == NULL)
        return err_set(err, "%s: sign in first", what);
    if (a->roles & need)
        return 0;
    for (unsigned i = 0; i < ROLE_COUNT; i++)
        if (need & (1u << i))
            if (buf_printf(&names, "%s%s", names.len ? " or " : "", role_names[i]) != 0)
                break;
    rc = err_setk(err, ERR_FORBIDDEN, "%s: refused: user '%s' does not hold the %s role", what, a->username,
                 buf_str(&names));
    buf_release(&names);
    return rc;
}

const char *registry_actor_username(const struct registry_actor *a)
{
    return a->username;
}

const char *registry_actor_office(const struct registry_actor *a)
{
    return a->office;
}

unsigned registry_actor_roles(const struct registry_actor *a)
{
    return a->roles;
}

const unsigned char *registry_actor_public_key(const struct registry_actor *a)
{
    return a->pk;
}

void registry_actor_free(struct registry_actor *a)
{
    if (a == NULL)
        return;
    if (a->sk)
        sodium_free(a->sk);
    if (a->office_sk)
        sodium_free(a->office_sk);
    free(a->keys_dir);
    secret_wipe(a, sizeof *a);
    free(a);
}

static int check_username(const char *u, struct err *err)
{
    size_t n = u ? strlen(u) : 0;

    if (n < 2 || n > REG_USERNAME_MAX)
        return err_set(err, "username: must be 2 to 32 characters a-z 0-9 . _ -");
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            /* The value is not repeated: it may hold control characters. */
            return err_set(err, "username: must be 2 to 32 characters a-z 0-9 . _ - (no "
                                "capitals, spaces or control characters)");
    }
    return 0;
}

/* A display name: 1 to 100 bytes of valid UTF-8, no control characters,
 * not only spaces. */
int registry_user_name_check(const char *n, struct err *err)
{
    size_t len = n ? strlen(n) : 0;
    bool letter = false;

    if (n == NULL)
        return 0;
    if (len < 1 || len > 100)
        return err_set(err, "name: must be 1 to 100 characters");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)n[i];
        if (c < 0x20 || c == 0x7f)
            return err_set(err, "name: must not contain control characters");
        if (c != ' ')
            letter = true;
    }
    if (!letter)
        return err_set(err, "name: must not be blank");
    if (!utf8_valid(n, len))
        return err_set(err, "name: must be valid UTF-8");
    return 0;
}

/* Every password set goes through the policy (password.c); demo mode
 * (`serve --demo`) only needs a non-empty one. */
static int check_password(const char *username, const char *p, bool demo, struct err *err)
{
    size_t n = p ? strlen(p) : 0;

    if (demo)
        return n == 0 || n > PASSWORD_MAX ? err_set(err, "password: empty or too long") : 0;
    return registry_password_check(username, p, err) == REGISTRY_PASSWORD_OK ? 0 : -1;
}

int registry_roles_check(unsigned roles, struct err *err)
{
    if (roles == 0 || (roles & ~REGISTRY_ROLES_ALL))
        return err_set(err, "roles: at least one known role is needed");
    /* Separation of duties: whoever manages accounts must not also read or
     * sign personal data, or one person could create a clerk, key a record
     * and approve it under two names. */
    if ((roles & ROLE_ADMIN) && (roles & REGISTRY_ROLES_DATA))
        return err_set(err, "roles: admin cannot be combined with clerk, registrar, "
                            "enrolment_officer, approver, issuance_operator or auditor "
                            "(separation of duties: give these roles to another account)");
    return 0;
}

/* The row of USERNAME as the session check needs it. Returns 0, 1 when
 * there is no such user, -1 on a database error. */
static int account_state(struct db *db, const char *username, unsigned *roles, int *disabled,
                         int64_t *epoch, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (reg_prepare_cached(db, &st, "SELECT roles, disabled, epoch FROM users WHERE username=?1", err) != 0)
        return -1;
    rc = db_bind(db, st, err, "s", username);
    if (rc == 0)
        rc = db_step_row(db, st, "reading users", err);
    if (rc == 1) {
        *roles = (unsigned)sqlite3_column_int(st, 0);
        *disabled = sqlite3_column_int(st, 1);
        *epoch = sqlite3_column_int64(st, 2);
        rc = 0;
    } else if (rc == 0) {
        rc = 1;
    }
    reg_release(db, st);
    return rc;
}

/* 0 when the row matches A, 1 (reason in ERR) when it does not. */
static int compare_account(const struct registry_actor *a, unsigned roles, int disabled,
                           int64_t epoch, struct err *err)
{
    if (disabled)
        return err_set(err, "account disabled: %s may no longer act", a->username), 1;
    if (epoch != a->epoch || roles != a->roles)
        return err_set(err, "account of %s changed since sign-in (roles or password): sign in "
                            "again",
                       a->username),
               1;
    return 0;
}

int registry_actor_current(struct db *db, const struct registry_actor *a, struct err *err)
{
    unsigned roles = 0;
    int64_t epoch = 0;
    int disabled = 0, rc;

    if (a == NULL)
        return err_set(err, "sign in first"), 1;
    rc = account_state(db, a->username, &roles, &disabled, &epoch, err);
    if (rc < 0)
        return -1;
    if (rc > 0)
        return err_set(err, "no user '%s' any more", a->username), 1;
    return compare_account(a, roles, disabled, epoch, err);
}

int reg_actor_check_current(struct db *db, const struct registry_actor *actor, struct err *err)
{
    unsigned roles = 0;
    int64_t epoch = 0;
    int disabled = 0, rc;

    rc = account_state(db, actor->username, &roles, &disabled, &epoch, err);
    if (rc < 0)
        return -1;
    if (rc > 0)
        return 0; /* the office key, or a first admin not stored yet */
    if (compare_account(actor, roles, disabled, epoch, err) != 0) {
        err_prefix(err, "event refused");
        return -1;
    }
    return 0;
}

/* Inside the write transaction of a change to USERNAME: end every session
 * the user has open (see registry_actor_current). */
static int bump_epoch(struct db *db, const char *username, struct err *err)
{
    return db_run(db, "UPDATE users SET epoch=epoch+1 WHERE username=?1",
                  "updating the user's epoch", err, "s", username);
}

static char *user_key_ad(const char *username)
{
    size_t n = strlen(username) + 10;
    char *ad = malloc(n);

    if (ad)
        (void)snprintf(ad, n, "user-key:%s", username);
    return ad;
}

/* What a password protects in table users: its hash, and the user's signing
 * key sealed under a key derived from it with a fresh salt. */
struct user_keys {
    char pw_hash[crypto_pwhash_STRBYTES];
    unsigned char salt[SEAL_SALT_BYTES];
    struct buf sealed;
};
#define USER_KEYS_INIT { "", { 0 }, BUF_INIT(4096) }

static int user_keys_seal(const char *username, const char *password, const unsigned char *sk,
                          struct user_keys *k, struct err *err)
{
    unsigned char key[SEAL_KEY_BYTES];
    char *ad = NULL;
    int rc = -1;

    if (crypto_pwhash_str(k->pw_hash, password, strlen(password),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return err_setk(err, ERR_INTERNAL, "password hashing ran out of memory");
    randombytes_buf(k->salt, sizeof k->salt);
    if ((ad = user_key_ad(username)) == NULL) {
        err_oom(err);
        goto out;
    }
    if (seal_key_from_password(password, k->salt, false, key, err) != 0 ||
        seal_encrypt(key, sk, REG_SK_BYTES, ad, &k->sealed, err) != 0)
        goto out;
    rc = 0;
out:
    secret_wipe(key, sizeof key);
    free(ad);
    return rc;
}

static void user_keys_release(struct user_keys *k)
{
    secret_wipe(k->pw_hash, sizeof k->pw_hash);
    buf_release(&k->sealed);
}

/* A new signing key pair for USERNAME: PK, and the secret half sealed under
 * PASSWORD into K. With SK the secret half is also handed over (secure
 * memory: the caller sodium_frees *SK, also on failure); without, it is
 * freed here. */
static int user_keys_new(const char *username, const char *password,
                         unsigned char pk[REG_PK_BYTES], unsigned char **sk, struct user_keys *k,
                         struct err *err)
{
    unsigned char *s = sodium_malloc(REG_SK_BYTES);
    int rc;

    if (s == NULL)
        return err_oom(err);
    crypto_sign_keypair(pk, s);
    rc = user_keys_seal(username, password, s, k, err);
    if (sk != NULL)
        *sk = s;
    else
        sodium_free(s);
    return rc;
}

/* Inside the write transaction: store USERNAME's new key material (and new
 * public key PK; NULL keeps it) and end the user's sessions. */
static int user_keys_store(struct db *db, const char *username, const struct user_keys *k,
                           const unsigned char *pk, const char *what, struct err *err)
{
    if (db_run(db,
               "UPDATE users SET pw_hash=?1, key_salt=?2, sealed_key=?3,"
               " public_key=coalesce(?4, public_key) WHERE username=?5",
               what, err, "sbbbs", k->pw_hash, k->salt, (size_t)SEAL_SALT_BYTES, k->sealed.data,
               k->sealed.len, pk, (size_t)REG_PK_BYTES, username) != 0)
        return -1;
    return bump_epoch(db, username, err);
}

/* Inside the write transaction: USERNAME's office into OFFICE. */
static int user_office(struct db *db, const char *username, char office[REG_OFFICE_MAX + 1],
                       struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = db_query_row(db, &st, "SELECT office FROM users WHERE username=?1",
                          "reading the user", err, "s", username);

    if (rc == 0 || (rc == 1 && strlen((const char *)sqlite3_column_text(st, 0)) > REG_OFFICE_MAX)) {
        rc = db_sql_fail(db, "reading the user", err);
    } else if (rc == 1) {
        memcpy(office, sqlite3_column_text(st, 0), strlen((const char *)sqlite3_column_text(st, 0)) + 1);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

int reg_user_hash(const char *username, const char *office, unsigned roles,
                  const unsigned char pk[REG_PK_BYTES], char out[65], json_t **content,
                  struct err *err)
{
    char pk_hex[2 * REG_PK_BYTES + 1];
    json_t *o;
    int rc;

    hex_encode(pk, REG_PK_BYTES, pk_hex);
    o = json_pack("{s:s, s:s, s:o, s:s}", "username", username, "office", office, "roles",
                  registry_roles_json(roles), "public_key", pk_hex);
    if (o == NULL)
        return err_oom(err);
    rc = registry_json_hash(o, out, err);
    if (rc == 0 && content)
        *content = json_incref(o);
    json_decref(o);
    return rc;
}

int reg_user_lookup(struct db *db, const char *username, unsigned char pk[REG_PK_BYTES],
                    unsigned *roles, int *disabled, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = db_query_row(db, &st,
                          "SELECT public_key, roles, disabled FROM users WHERE username=?1",
                          "reading users", err, "s", username);

    if (rc == 0) {
        rc = 1;
    } else if (rc == 1) {
        if (sqlite3_column_bytes(st, 0) != REG_PK_BYTES) {
            rc = err_set(err, "users '%s': public key is not 32 bytes", username);
        } else {
            if (pk)
                memcpy(pk, sqlite3_column_blob(st, 0), REG_PK_BYTES);
            if (roles)
                *roles = (unsigned)sqlite3_column_int(st, 1);
            if (disabled)
                *disabled = sqlite3_column_int(st, 2);
            rc = 0;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Inside the write transaction of WHAT ("user roles"): reg_user_lookup, with
 * "WHAT: no user 'USERNAME'" (not found) when there is no such user. */
static int user_must_exist(struct db *db, const char *what, const char *username,
                           unsigned char pk[REG_PK_BYTES], unsigned *roles, int *disabled,
                           struct err *err)
{
    int rc = reg_user_lookup(db, username, pk, roles, disabled, err);

    if (rc > 0)
        return err_setk(err, ERR_NOT_FOUND, "%s: no user '%s'", what, username);
    return rc;
}

/* A password hash nobody knows the password of: unknown users cost the same
 * Argon2id work as known ones, so timing does not reveal who exists. Made
 * once per process (the web server calls this from many threads). */
static char dummy_hash[crypto_pwhash_STRBYTES];
static bool dummy_ready;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_init(void)
{
    unsigned char r[16];
    char rhex[33];

    randombytes_buf(r, sizeof r);
    hex_encode(r, sizeof r, rhex);
    dummy_ready = crypto_pwhash_str(dummy_hash, rhex, strlen(rhex),
                                    crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                    crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0;
}

static void dummy_verify(const char *password)
{
    (void)pthread_once(&dummy_once, dummy_init);
    if (dummy_ready && crypto_pwhash_str_verify(dummy_hash, password, strlen(password)) == 0)
        return; /* cannot happen: nobody knows the dummy password */
}

static int node_office(struct db *db, char out[REG_OFFICE_MAX + 1], struct err *err)
{
    char *v = NULL;
    int rc = db_setting_get(db, "office", &v, err);

    if (rc < 0)
        return -1;
    if (rc > 0 || v == NULL || strlen(v) > REG_OFFICE_MAX) {
        free(v);
        return err_set(err, "settings: this data directory has no office code");
    }
    memcpy(out, v, strlen(v) + 1);
    free(v);
    return 0;
}

static struct registry_actor *actor_new(const char *keys_dir)
{
    struct registry_actor *a = calloc(1, sizeof *a);

    if (a == NULL)
        return NULL;
    a->keys_dir = keys_dir ? strdup(keys_dir) : NULL;
    if (keys_dir && a->keys_dir == NULL) {
        free(a);
        return NULL;
    }
    return a;
}

int registry_authenticate(struct db *db, const char *keys_dir, const char *username,
                          const char *password, struct registry_actor **out, struct err *err)
{
    static const char generic[] = "invalid username or password";
    struct registry_actor *a = NULL;
    sqlite3_stmt *st = NULL;
    unsigned char key[SEAL_KEY_BYTES];
    unsigned char *plain = NULL;
    size_t plain_len = 0;
    char *ad = NULL;
    int rc = -1, step;

    *out = NULL;
    if (username == NULL || password == NULL || strlen(username) > REG_USERNAME_MAX ||
        strlen(password) > PASSWORD_MAX)
        return err_set(err, "%s", generic);
    step = db_query_row(db, &st,
                        "SELECT office, roles, pw_hash, key_salt, sealed_key, public_key, disabled,"
                        " epoch FROM users WHERE username=?1",
                        "reading users", err, "s", username);
    if (step < 0)
        goto out;
    if (step == 0) {
        dummy_verify(password);
        err_set(err, "%s", generic);
        goto out;
    }
    if (crypto_pwhash_str_verify((const char *)sqlite3_column_text(st, 2), password,
                                 strlen(password)) != 0) {
        err_set(err, "%s", generic);
        goto out;
    }
    if (sqlite3_column_int(st, 6) != 0) {
        err_set(err, "account disabled: %s may no longer sign in", username);
        goto out;
    }
    if (sqlite3_column_bytes(st, 3) != SEAL_SALT_BYTES ||
        sqlite3_column_bytes(st, 5) != REG_PK_BYTES ||
        strlen((const char *)sqlite3_column_text(st, 0)) > REG_OFFICE_MAX) {
        err_set(err, "users '%s': row is damaged", username);
        goto out;
    }
    if ((a = actor_new(keys_dir)) == NULL || (ad = user_key_ad(username)) == NULL) {
        err_oom(err);
        goto out;
    }
    memcpy(a->username, username, strlen(username) + 1);
    memcpy(a->office, sqlite3_column_text(st, 0), strlen((const char *)sqlite3_column_text(st, 0)) + 1);
    a->roles = (unsigned)sqlite3_column_int(st, 1);
    a->epoch = sqlite3_column_int64(st, 7);
    memcpy(a->pk, sqlite3_column_blob(st, 5), REG_PK_BYTES);
    if (seal_key_from_password(password, sqlite3_column_blob(st, 3), false, key, err) != 0)
        goto out;
    if (seal_decrypt(key, sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4), ad,
                     &plain, &plain_len, err) != 0) {
        err_prefix(err, "signing key of %s", username);
        goto out;
    }
    if (plain_len != REG_SK_BYTES || memcmp(plain + 32, a->pk, REG_PK_BYTES) != 0) {
        err_set(err, "signing key of %s does not match the public key on record", username);
        goto out;
    }
    a->sk = plain;
    plain = NULL;
    if (node_office(db, a->node_office, err) != 0 ||
        reg_office_key_load(db, keys_dir, a->node_office, false, a->office_pk, &a->office_sk,
                            err) != 0)
        goto out;
    *out = a;
    a = NULL;
    rc = 0;
out:
    secret_wipe(key, sizeof key);
    seal_free(plain, plain_len);
    free(ad);
    sqlite3_finalize(st);
    registry_actor_free(a);
    return rc;
}

static int office_exists(struct db *db, const char *office, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    rc = db_query_row(db, &st, "SELECT 1 FROM offices WHERE code=?1", "reading offices", err, "s",
                      office);
    if (rc >= 0)
        rc = rc == 1 ? 0 : err_set(err, "office: '%s' is not a known office", office);
    sqlite3_finalize(st);
    return rc;
}

static int user_count(struct db *db, int64_t *n, struct err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = db_query_row(db, &st, "SELECT count(*) FROM users", "counting users", err, "");

    if (rc == 1)
        *n = sqlite3_column_int64(st, 0);
    else if (rc == 0)
        db_sql_fail(db, "counting users", err);
    sqlite3_finalize(st);
    return rc == 1 ? 0 : -1;
}

struct user_add {
    const struct registry_actor *actor; /* signs user.add */
    struct registry_actor *office_actor; /* bootstrap: signs office.key */
    const struct registry_user_new *u;
    const struct user_keys *keys;
    const unsigned char *pk;
    bool bootstrap;
};

/* The data of the office.key event: the office's public log key, and (since
 * event version 2) the office row and the key's creation time, so that
 * `audit verify` rebuilds tables offices and office_keys from the log. */
static json_t *office_key_data(struct db *db, const char *office, const char *pk_hex,
                               struct err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *data = NULL;

    int rc = db_query_row(db, &st,
                          "SELECT o.name, o.country, o.created_at, k.created_at FROM offices o"
                          " JOIN office_keys k ON k.office = o.code WHERE o.code = ?1",
                          "reading the office", err, "s", office);

    if (rc == 0)
        db_sql_fail(db, "reading the office", err);
    if (rc != 1)
        goto out;
    data = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "office", office, "public_key", pk_hex,
                     "name", (const char *)sqlite3_column_text(st, 0), "country",
                     (const char *)sqlite3_column_text(st, 1), "created_at",
                     (const char *)sqlite3_column_text(st, 2), "key_created_at",
                     (const char *)sqlite3_column_text(st, 3));
    if (data == NULL)
        err_oom(err);
out:
    sqlite3_finalize(st);
    return data;
}

static int user_add_tx(struct db *db, void *arg, struct err *err)
{
    struct user_add *ua = arg;
    const struct registry_user_new *u = ua->u;
    char hash[65], now[TIME_ISO8601_LEN + 1];
    json_t *content = NULL;
    sqlite3_stmt *st = NULL;
    uint64_t seq = 0;
    int64_t count = 0;
    int rc = -1;

    /* Checked again inside the write transaction: two first users racing
     * cannot both bootstrap. */
    if (user_count(db, &count, err) != 0)
        goto out;
    if (ua->bootstrap && count != 0) {
        err_set(err, "user add: users already exist: sign in as an admin (--user)");
        goto out;
    }
    if (ua->bootstrap) {
        char pk_hex[65];
        json_t *data;
        hex_encode(ua->office_actor->office_pk, 32, pk_hex);
        data = office_key_data(db, ua->office_actor->node_office, pk_hex, err);
        if (data == NULL)
            goto out;
        rc = reg_event_append_one(db, ua->office_actor, "office.key", "office_key",
                                  ua->office_actor->node_office, NULL, NULL, data, NULL, NULL,
                                  err);
        json_decref(data);
        if (rc != 0)
            goto out;
        rc = -1;
    }
    if (reg_user_hash(u->username, u->office, u->roles, ua->pk, hash, &content, err) != 0 ||
        reg_now(now, err) != 0)
        goto out;
    /* The full name, when given, is signed with the account (user.add's
     * data and object hash); an account without one signs what it always
     * did. */
    if (u->name != NULL &&
        (json_object_set_new(content, "name", json_string(u->name)) != 0 ||
         registry_json_hash(content, hash, err) != 0)) {
        err_setk(err, ERR_INTERNAL, "user add: the name cannot be signed");
        goto out;
    }
    if (reg_event_append_one(db, ua->actor, "user.add", "user", u->username, hash, NULL, content,
                             now, &seq, err) != 0)
        goto out;
    if (db_query_row(db, &st,
                     "INSERT INTO users(username, office, roles, pw_hash, key_salt, sealed_key,"
                     " public_key, disabled, created_at, event_seq, name)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?10)",
                     "storing the user", err, "ssisbbbsIs", u->username, u->office,
                     (int)u->roles, ua->keys->pw_hash, ua->keys->salt, (size_t)SEAL_SALT_BYTES,
                     ua->keys->sealed.data, ua->keys->sealed.len, ua->pk, (size_t)REG_PK_BYTES,
                     now, (long long)seq, u->name) != 0) {
        if ((sqlite3_extended_errcode(db_handle(db)) & 0xff) == SQLITE_CONSTRAINT)
            err_set(err, "user add: user '%s' already exists", u->username);
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    json_decref(content);
    return rc;
}

int registry_user_add(struct db *db, const char *keys_dir, const struct registry_actor *actor,
                      const struct registry_user_new *u, struct err *err)
{
    struct user_keys keys = USER_KEYS_INIT;
    unsigned char pk[REG_PK_BYTES], *sk = NULL;
    struct registry_actor *self = NULL, *office = NULL;
    int64_t count = 0;
    struct user_add ua;
    int rc = -1;

    if (check_username(u->username, err) != 0 || registry_user_name_check(u->name, err) != 0 ||
        check_password(u->username, u->password, u->demo_password, err) != 0 ||
        registry_roles_check(u->roles, err) != 0)
        return -1;
    if (u->office == NULL || office_exists(db, u->office, err) != 0)
        return -1;
    if (user_count(db, &count, err) != 0)
        return -1;
    if (actor == NULL) {
        if (count != 0)
            return err_set(err, "user add: users already exist: sign in as an admin (--user)");
        if (!(u->roles & ROLE_ADMIN))
            return err_set(err, "user add: the first user must hold the admin role");
    } else if (registry_require_action(actor, "user.manage", err) != 0) {
        return -1;
    }
    if (user_keys_new(u->username, u->password, pk, &sk, &keys, err) != 0)
        goto out;

    memset(&ua, 0, sizeof ua);
    ua.u = u;
    ua.keys = &keys;
    ua.pk = pk;
    ua.actor = actor;
    if (actor == NULL) {
        /* Bootstrap: the office log key is made now; the first admin signs
         * their own creation, the office key signs its own publication. */
        ua.bootstrap = true;
        if ((self = actor_new(keys_dir)) == NULL || (office = actor_new(keys_dir)) == NULL) {
            err_oom(err);
            goto out;
        }
        if (node_office(db, self->node_office, err) != 0)
            goto out;
        if (db_tx_begin(db, err) != 0)
            goto out;
        if (reg_office_key_load(db, keys_dir, self->node_office, true, self->office_pk,
                                &self->office_sk, err) != 0 ||
            db_tx_commit(db, err) != 0) {
            db_tx_rollback(db);
            goto out;
        }
        memcpy(self->username, u->username, strlen(u->username) + 1);
        memcpy(self->office, u->office, strlen(u->office) + 1);
        self->roles = u->roles;
        memcpy(self->pk, pk, sizeof pk);
        self->sk = sk;
        sk = NULL;
        memcpy(office->node_office, self->node_office, sizeof office->node_office);
        (void)snprintf(office->username, sizeof office->username, "office:%s", self->node_office);
        memcpy(office->office, self->node_office, sizeof office->office);
        memcpy(office->pk, self->office_pk, REG_PK_BYTES);
        memcpy(office->office_pk, self->office_pk, REG_PK_BYTES);
        if ((office->sk = sodium_malloc(REG_SK_BYTES)) == NULL ||
            (office->office_sk = sodium_malloc(REG_SK_BYTES)) == NULL) {
            err_set(err, "out of secure memory");
            goto out;
        }
        memcpy(office->sk, self->office_sk, REG_SK_BYTES);
        memcpy(office->office_sk, self->office_sk, REG_SK_BYTES);
        ua.actor = self;
        ua.office_actor = office;
    }
    if (reg_tx_run(db, ua.actor, user_add_tx, &ua, err) != 0)
        goto out;
    rc = 0;
out:
    user_keys_release(&keys);
    if (sk)
        sodium_free(sk);
    registry_actor_free(self);
    registry_actor_free(office);
    return rc;
}

struct passwd_ctx {
    const struct registry_actor *actor;
    const struct user_keys *keys;
};

static int passwd_tx(struct db *db, void *arg, struct err *err)
{
    struct passwd_ctx *c = arg;
    char hash[65];

    if (reg_user_hash(c->actor->username, c->actor->office, c->actor->roles, c->actor->pk, hash,
                      NULL, err) != 0 ||
        reg_event_append_one(db, c->actor, "user.passwd", "user", c->actor->username, hash, NULL,
                             NULL, NULL, NULL, err) != 0)
        return -1;
    return user_keys_store(db, c->actor->username, c->keys, NULL, "updating the password", err);
}

int registry_user_passwd(struct db *db, const char *keys_dir, const char *username,
                         const char *old_password, const char *new_password, struct err *err)
{
    struct registry_actor *a = NULL;
    struct user_keys keys = USER_KEYS_INIT;
    struct passwd_ctx c;
    int rc = -1;

    if (check_password(username, new_password, false, err) != 0)
        return -1;
    if (registry_authenticate(db, keys_dir, username, old_password, &a, err) != 0)
        return -1;
    if (user_keys_seal(username, new_password, a->sk, &keys, err) != 0)
        goto out;
    c.actor = a;
    c.keys = &keys;
    if (reg_tx_run(db, a, passwd_tx, &c, err) != 0)
        goto out;
    rc = 0;
out:
    user_keys_release(&keys);
    registry_actor_free(a);
    return rc;
}

struct reset_ctx {
    const struct registry_actor *actor;
    const char *username;
    const struct user_keys *keys;
    const unsigned char *pk;
};

static int reset_tx(struct db *db, void *arg, struct err *err)
{
    struct reset_ctx *c = arg;
    json_t *content = NULL;
    char hash[65], office[REG_OFFICE_MAX + 1];
    unsigned roles = 0;
    int rc = -1, disabled = 0;

    if (user_must_exist(db, "user reset", c->username, NULL, &roles, &disabled, err) != 0)
        return -1;
    if (user_office(db, c->username, office, err) != 0 ||
        reg_user_hash(c->username, office, roles, c->pk, hash, &content, err) != 0)
        return -1;
    rc = reg_event_append_one(db, c->actor, "user.key", "user", c->username, hash, NULL, content,
                              NULL, NULL, err);
    json_decref(content);
    if (rc != 0)
        return -1;
    return user_keys_store(db, c->username, c->keys, c->pk, "storing the new key", err);
}

int registry_user_reset(struct db *db, const struct registry_actor *actor, const char *username,
                        const char *new_password, struct err *err)
{
    struct user_keys keys = USER_KEYS_INIT;
    unsigned char pk[REG_PK_BYTES];
    struct reset_ctx c;
    int rc = -1;

    if (registry_require_action(actor, "user.manage", err) != 0)
        return -1;
    if (check_username(username, err) != 0 || check_password(username, new_password, false, err) != 0)
        return -1;
    if (user_keys_new(username, new_password, pk, NULL, &keys, err) != 0)
        goto out;
    c.actor = actor;
    c.username = username;
    c.keys = &keys;
    c.pk = pk;
    rc = reg_tx_run(db, actor, reset_tx, &c, err);
out:
    user_keys_release(&keys);
    return rc;
}

/* Inside the write transaction of an admin's change to USERNAME: append
 * event TYPE (HASH and DATA may be NULL), set one column of the user's row
 * by SQL (?1 VALUE, ?2 the username) and end the user's sessions. */
static int user_change(struct db *db, const struct registry_actor *actor, const char *type,
                       const char *username, const char *hash, const json_t *data,
                       const char *sql, const char *what, long long value, struct err *err)
{
    if (reg_event_append_one(db, actor, type, "user", username, hash, NULL, data, NULL, NULL,
                             err) != 0 ||
        db_run(db, sql, what, err, "Is", value, username) != 0)
        return -1;
    return bump_epoch(db, username, err);
}

struct disable_ctx {
    const struct registry_actor *actor;
    const char *username;
};

static int disable_tx(struct db *db, void *arg, struct err *err)
{
    struct disable_ctx *c = arg;
    json_t *data = NULL;
    int rc, disabled = 0;

    if (user_must_exist(db, "user disable", c->username, NULL, NULL, &disabled, err) != 0)
        return -1;
    if (disabled)
        return err_set(err, "user disable: '%s' is already disabled", c->username);
    if ((data = json_pack("{s:s}", "username", c->username)) == NULL)
        return err_oom(err);
    rc = user_change(db, c->actor, "user.disable", c->username, NULL, data,
                     "UPDATE users SET disabled=?1 WHERE username=?2", "disabling the user", 1,
                     err);
    json_decref(data);
    return rc;
}

int registry_user_disable(struct db *db, const struct registry_actor *actor, const char *username,
                          struct err *err)
{
    struct disable_ctx c = { actor, username };

    if (registry_require_action(actor, "user.manage", err) != 0)
        return -1;
    if (username == NULL || strcmp(username, actor->username) == 0)
        return err_set(err, "user disable: an admin cannot disable their own account");
    return reg_tx_run(db, actor, disable_tx, &c, err);
}

struct roles_ctx {
    const struct registry_actor *actor;
    const char *username;
    unsigned roles;
};

static int roles_tx(struct db *db, void *arg, struct err *err)
{
    struct roles_ctx *c = arg;
    json_t *content = NULL;
    unsigned char pk[REG_PK_BYTES];
    char hash[65], office[REG_OFFICE_MAX + 1];
    unsigned old = 0;
    int rc = -1, disabled = 0;

    if (user_must_exist(db, "user roles", c->username, pk, &old, &disabled, err) != 0)
        return -1;
    if (disabled)
        return err_set(err, "user roles: '%s' is disabled", c->username);
    if (old == c->roles)
        return err_set(err, "user roles: '%s' already holds exactly these roles", c->username);
    if (user_office(db, c->username, office, err) != 0)
        return -1;
    /* The event carries the user's whole new content, as user.add does, so
     * the audit checks the row against the last of them. */
    if (reg_user_hash(c->username, office, c->roles, pk, hash, &content, err) != 0)
        return -1;
    rc = user_change(db, c->actor, "user.roles", c->username, hash, content,
                     "UPDATE users SET roles=?1 WHERE username=?2", "changing the roles",
                     (long long)c->roles, err);
    json_decref(content);
    return rc;
}

int registry_user_roles(struct db *db, const struct registry_actor *actor, const char *username,
                        unsigned roles, struct err *err)
{
    struct roles_ctx c = { actor, username, roles };

    if (registry_require_action(actor, "user.manage", err) != 0)
        return -1;
    if (check_username(username, err) != 0 || registry_roles_check(roles, err) != 0)
        return -1;
    if (strcmp(username, actor->username) == 0)
        return err_set(err, "user roles: an admin cannot change their own roles");
    return reg_tx_run(db, actor, roles_tx, &c, err);
}

static int user_row(sqlite3_stmt *st, void *ctx, json_t **row, struct err *err)
{
    char pk_hex[65] = "";
    json_t *u;

    (void)ctx;
    (void)err;
    if (sqlite3_column_bytes(st, 3) == 32)
        hex_encode(sqlite3_column_blob(st, 3), 32, pk_hex);
    u = json_pack("{s:s, s:s, s:o, s:s, s:b, s:s}", "username", sqlite3_column_text(st, 0),
                  "office", sqlite3_column_text(st, 1), "roles",
                  registry_roles_json((unsigned)sqlite3_column_int(st, 2)), "public_key", pk_hex,
                  "disabled", sqlite3_column_int(st, 4), "created_at", sqlite3_column_text(st, 5));
    if (u != NULL && sqlite3_column_type(st, 6) == SQLITE_TEXT &&
        json_object_set_new(u, "name", json_string((const char *)sqlite3_column_text(st, 6))) != 0) {
        json_decref(u);
        u = NULL;
    }
    *row = u;
    return 0;
}

int registry_user_list(struct db *db, const struct registry_actor *actor, json_t **out,
                       struct err *err)
{
    *out = NULL;
    if (registry_require_action(actor, "user.list", err) != 0)
        return -1;
    return db_query_rows(db,
                         "SELECT username, office, roles, public_key, disabled, created_at, name"
                         " FROM users ORDER BY username",
                         "listing users", user_row, NULL, out, err, "");
}
