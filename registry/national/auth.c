/* civreg national tier: requests signed by the office key, with replay
 * protection. An office signs
 *
 *   civreg-national-v1 \n METHOD \n PATH \n OFFICE \n TIME \n NONCE \n SHA256(body)
 *
 * with its log key (Ed25519, the key its signed tree heads verify under).
 * The national tier accepts a request only when the office is registered,
 * TIME (Unix seconds) is within NATIONAL_CLOCK_SKEW of its clock, the
 * signature holds and NONCE was never used by that office: the nonce is
 * recorded and committed before the request runs, so a replayed request is
 * refused even after a restart. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/encode.h"
#include "core/log.h"
#include "national_int.h"

int national_auth_string(const char *method, const char *path, const char *office,
                         const char *time_s, const char *nonce, const void *body, size_t len,
                         char *out, size_t size, struct err *err)
{
    char h[65];
    int n;

    reg_sha256_hex(body, len, h);
    n = snprintf(out, size, "civreg-national-v1\n%s\n%s\n%s\n%s\n%s\n%s", method, path, office,
                 time_s, nonce, h);
    if (n < 0 || (size_t)n >= size)
        return err_set(err, "request: header values too long");
    return 0;
}

static bool nonce_ok(const char *s)
{
    size_t n = strlen(s);

    if (n < 16 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

enum national_refusal national_auth_check(struct pg *pg, const char *method, const char *path,
                                          const char *office, const char *time_s,
                                          const char *nonce, const char *sig_hex,
                                          const void *body, size_t len, struct err *err)
{
    struct pg_res *r = NULL;
    unsigned char pk[REG_PK_BYTES], sig[REG_SIG_BYTES];
    char msg[600], *end = NULL;
    size_t n = 0;
    long long t;
    const char *p[2];
    enum national_refusal rc = NATIONAL_UNAUTHORIZED;

    if (!office || !time_s || !nonce || !sig_hex) {
        err_set(err, "request: missing X-Civreg-Office, -Time, -Nonce or -Signature header");
        return NATIONAL_UNAUTHORIZED;
    }
    if (!nat_office_ok(office)) {
        err_set(err, "request: malformed office code");
        return NATIONAL_UNAUTHORIZED;
    }
    t = strtoll(time_s, &end, 10);
    if (end == time_s || *end || llabs(t - (long long)time(NULL)) > NATIONAL_CLOCK_SKEW) {
        err_set(err, "request: time %s is not within %d s of the national clock", time_s,
                NATIONAL_CLOCK_SKEW);
        return NATIONAL_UNAUTHORIZED;
    }
    if (!nonce_ok(nonce)) {
        err_set(err, "request: malformed nonce (16 to 64 lowercase hex digits)");
        return NATIONAL_UNAUTHORIZED;
    }
    if (strlen(sig_hex) != 2 * REG_SIG_BYTES ||
        hex_decode(sig_hex, strlen(sig_hex), sig, sizeof sig, &n, NULL) != 0 || n != sizeof sig) {
        err_set(err, "request: malformed signature");
        return NATIONAL_UNAUTHORIZED;
    }
    p[0] = office;
    if (pg_exec(pg, "SELECT public_key FROM offices WHERE office = $1", 1, p, &r, err) != 0)
        return NATIONAL_INTERNAL;
    if (pg_res_rows(r) != 1) {
        err_set(err, "request: office %s is not registered with the national tier", office);
        goto out;
    }
    if (reg_hex32(pg_res_value(r, 0, 0), pk, "office key", err) != 0) {
        rc = NATIONAL_INTERNAL;
        goto out;
    }
    if (national_auth_string(method, path, office, time_s, nonce, body, len, msg, sizeof msg,
                             err) != 0)
        goto out;
    if (!reg_sig_ok(pk, msg, strlen(msg), sig, sizeof sig)) {
        err_set(err, "request: signature does not verify under office %s's key", office);
        goto out;
    }
    pg_res_free(r);
    r = NULL;
    /* Recorded and committed before the request runs (autocommit). */
    p[1] = nonce;
    if (pg_exec(pg,
                "INSERT INTO request_nonces(office, nonce) VALUES ($1, $2)"
                " ON CONFLICT DO NOTHING",
                2, p, &r, err) != 0) {
        rc = NATIONAL_INTERNAL;
        goto out;
    }
    if (pg_res_affected(r) != 1) {
        err_set(err, "request: replayed (nonce already used by office %s)", office);
        goto out;
    }
    pg_res_free(r);
    r = NULL;
    /* nonces older than twice the skew can no longer pass the time check */
    if (pg_exec(pg, "DELETE FROM request_nonces WHERE seen_at < now() - interval '600 seconds'",
                0, NULL, NULL, NULL) != 0)
        log_warn("national: purging old nonces failed");
    rc = NATIONAL_OK;
out:
    pg_res_free(r);
    return rc;
}
