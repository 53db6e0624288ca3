/* civreg web: the server-side session store.
 *
 * A session is named by a 256-bit random token (the cookie); the store keeps
 * the token, a per-session CSRF token, who signed in and their registry
 * actor (with its signing key unlocked). Nothing but the token leaves the
 * server. Sessions end at sign-out, after IDLE seconds without a request, or
 * ABSOLUTE seconds after sign-in, whichever comes first; the actor is then
 * freed with the function given at creation (which wipes the key).
 *
 * Thread safety: every function takes the store's mutex. A session returned
 * by web_session_acquire stays valid (its actor is not freed) until
 * web_session_release, even if it is signed out meanwhile. */
#ifndef CIVREG_WEB_SESSION_H
#define CIVREG_WEB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/err.h"

#define WEB_TOKEN_BYTES 32
#define WEB_TOKEN_LEN 43 /* base64url of 32 bytes, no padding */

struct web_sessions;

struct web_session_limits {
    time_t idle;     /* seconds without a request before the session ends */
    time_t absolute; /* seconds after sign-in before it ends regardless */
    size_t max;      /* sessions held at once; the oldest idle one goes first */
};

/* One session. The fields are immutable after creation except where noted;
 * read them only between acquire and release. */
struct web_session {
    unsigned char token[WEB_TOKEN_BYTES];
    char csrf[WEB_TOKEN_LEN + 1];
    char username[64];
    char office[64];
    unsigned roles;
    time_t created;
    void *actor; /* owned; freed by actor_free when the session ends */
    void (*actor_free)(void *actor);
    /* under the store's lock: */
    time_t last_seen;
    char lang[8];
    int refs;
    bool ended;
    struct web_session *next;
};

int web_sessions_new(const struct web_session_limits *lim, struct web_sessions **out,
                     struct err *err) __attribute__((warn_unused_result));
/* Ends every session (freeing the actors) and frees the store; NULL is a no-op. */
void web_sessions_free(struct web_sessions *s);

/* Start a session for ACTOR (ownership passes to the store, also on
 * failure). TOKEN and CSRF receive the new tokens as base64url text. */
int web_session_create(struct web_sessions *s, void *actor, void (*actor_free)(void *),
                       const char *username, const char *office, unsigned roles,
                       const char *lang, time_t now, char token[WEB_TOKEN_LEN + 1],
                       char csrf[WEB_TOKEN_LEN + 1], struct err *err)
    __attribute__((warn_unused_result));

/* The live session named by TOKEN (base64url text), its idle clock reset;
 * NULL when unknown, malformed or expired. The caller releases it. */
struct web_session *web_session_acquire(struct web_sessions *s, const char *token, time_t now)
    __attribute__((warn_unused_result));
void web_session_release(struct web_sessions *s, struct web_session *ses);

/* Sign-out: end SES now. */
void web_session_end(struct web_sessions *s, struct web_session *ses);

/* End every session of USERNAME now (an admin disabled the account or
 * changed its roles or password); sessions in use are destroyed when
 * released. Returns how many ended. */
size_t web_sessions_end_user(struct web_sessions *s, const char *username);

/* The session's language into OUT (under the lock), and setting it. */
void web_session_lang(struct web_sessions *s, const struct web_session *ses, char out[8]);
void web_session_set_lang(struct web_sessions *s, struct web_session *ses, const char *lang);

/* End the sessions whose time is up; returns how many ended. */
size_t web_sessions_expire(struct web_sessions *s, time_t now);

/* Live sessions (for tests and the status line). */
size_t web_sessions_count(struct web_sessions *s);

#endif
