/* civreg web: server-side sessions (see session.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/encode.h"
#include "core/secret.h"
#include "session.h"

struct web_sessions {
    pthread_mutex_t mu;
    struct web_session_limits lim;
    struct web_session *head; /* live sessions */
    size_t count;
};

int web_sessions_new(const struct web_session_limits *lim, struct web_sessions **out,
                     struct err *err)
{
    struct web_sessions *s;

    *out = NULL;
    if (lim->idle <= 0 || lim->absolute <= 0 || lim->max == 0)
        return err_set(err, "sessions: timeouts and the maximum must be positive");
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return err_setk(err, ERR_INTERNAL, "sessions: out of memory");
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return err_set(err, "sessions: cannot create the lock");
    }
    s->lim = *lim;
    *out = s;
    return 0;
}

/* Free a session that is out of the list and has no users. The actor's
 * free function wipes its key; the tokens are wiped here. */
static void session_destroy(struct web_session *ses)
{
    if (ses->actor_free != NULL && ses->actor != NULL)
        ses->actor_free(ses->actor);
    secret_wipe(ses, sizeof *ses);
    free(ses);
}

/* Under the lock: take SES out of the list; returns true when the caller
 * must destroy it now (nobody holds it). */
static bool unlink_locked(struct web_sessions *s, struct web_session *ses)
{
    for (struct web_session **pp = &s->head; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == ses) {
            *pp = ses->next;
            ses->next = NULL;
            s->count--;
            break;
        }
    }
    ses->ended = true;
    return ses->refs == 0;
}

static bool expired(const struct web_sessions *s, const struct web_session *ses, time_t now)
{
    return now - ses->last_seen >= s->lim.idle || now - ses->created >= s->lim.absolute ||
           now < ses->created; /* the clock went back: do not trust the session */
}

/* Under the lock: move the expired sessions to *DEAD (to destroy outside
 * the lock, since actor_free may take time). */
static size_t expire_locked(struct web_sessions *s, time_t now, struct web_session **dead)
{
    size_t n = 0;
    struct web_session *ses = s->head, *next;

    for (; ses != NULL; ses = next) {
        next = ses->next;
        if (expired(s, ses, now)) {
            n++;
            if (unlink_locked(s, ses)) {
                ses->next = *dead;
                *dead = ses;
            }
        }
    }
    return n;
}

static void destroy_list(struct web_session *dead)
{
    while (dead != NULL) {
        struct web_session *next = dead->next;
        session_destroy(dead);
        dead = next;
    }
}

void web_sessions_free(struct web_sessions *s)
{
    struct web_session *dead = NULL;

    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    while (s->head != NULL) {
        struct web_session *ses = s->head;
        /* At shutdown nobody holds a session any more (CivetWeb has
         * stopped), so every one is destroyed here. */
        (void)unlink_locked(s, ses);
        ses->next = dead;
        dead = ses;
    }
    pthread_mutex_unlock(&s->mu);
    destroy_list(dead);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void copy_field(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= size)
        n = size - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static int encode_token(const unsigned char *raw, char out[WEB_TOKEN_LEN + 1])
{
    char *t = b64url_encode(raw, WEB_TOKEN_BYTES);
    if (t == NULL || strlen(t) != WEB_TOKEN_LEN) {
        free(t);
        return -1;
    }
    memcpy(out, t, WEB_TOKEN_LEN + 1);
    secret_wipe(t, WEB_TOKEN_LEN);
    free(t);
    return 0;
}

int web_session_create(struct web_sessions *s, void *actor, void (*actor_free)(void *),
                       const char *username, const char *office, unsigned roles,
                       const char *lang, time_t now, char token[WEB_TOKEN_LEN + 1],
                       char csrf[WEB_TOKEN_LEN + 1], struct err *err)
{
    struct web_session *ses = calloc(1, sizeof *ses), *dead = NULL;
    unsigned char raw[WEB_TOKEN_BYTES];

    if (ses == NULL) {
        if (actor_free && actor)
            actor_free(actor);
        return err_setk(err, ERR_INTERNAL, "sessions: out of memory");
    }
    ses->actor = actor;
    ses->actor_free = actor_free;
    secret_random(ses->token, sizeof ses->token);
    secret_random(raw, sizeof raw);
    if (encode_token(ses->token, token) != 0 || encode_token(raw, ses->csrf) != 0) {
        secret_wipe(raw, sizeof raw);
        session_destroy(ses);
        return err_setk(err, ERR_INTERNAL, "sessions: out of memory");
    }
    secret_wipe(raw, sizeof raw);
    memcpy(csrf, ses->csrf, sizeof ses->csrf);
    copy_field(ses->username, sizeof ses->username, username);
    copy_field(ses->office, sizeof ses->office, office);
    copy_field(ses->lang, sizeof ses->lang, lang ? lang : "en");
    ses->roles = roles;
    ses->created = now;
    ses->last_seen = now;

    pthread_mutex_lock(&s->mu);
    (void)expire_locked(s, now, &dead);
    /* Full: end the session idle the longest, so a flood of sign-ins
     * cannot exhaust memory; it is one that nobody is using right now. */
    while (s->count >= s->lim.max) {
        struct web_session *oldest = NULL;
        for (struct web_session *p = s->head; p != NULL; p = p->next)
            if (oldest == NULL || p->last_seen < oldest->last_seen)
                oldest = p;
        if (oldest == NULL)
            break;
        if (unlink_locked(s, oldest)) {
            oldest->next = dead;
            dead = oldest;
        }
    }
    ses->next = s->head;
    s->head = ses;
    s->count++;
    pthread_mutex_unlock(&s->mu);
    destroy_list(dead);
    return 0;
}

struct web_session *web_session_acquire(struct web_sessions *s, const char *token, time_t now)
{
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    struct web_session *found = NULL, *dead = NULL;

    if (token == NULL || strlen(token) != WEB_TOKEN_LEN ||
        b64url_decode(token, WEB_TOKEN_LEN, WEB_TOKEN_BYTES, &raw, &rawlen, NULL) != 0 ||
        rawlen != WEB_TOKEN_BYTES) {
        free(raw);
        return NULL;
    }
    pthread_mutex_lock(&s->mu);
    (void)expire_locked(s, now, &dead);
    /* Compare with every live session in constant time: how long the
     * lookup takes tells nothing about how close a guess was. */
    for (struct web_session *p = s->head; p != NULL; p = p->next)
        if (secret_equal(p->token, raw, WEB_TOKEN_BYTES) && found == NULL)
            found = p;
    if (found != NULL) {
        found->refs++;
        found->last_seen = now;
    }
    pthread_mutex_unlock(&s->mu);
    secret_wipe(raw, rawlen);
    free(raw);
    destroy_list(dead);
    return found;
}

void web_session_release(struct web_sessions *s, struct web_session *ses)
{
    bool destroy;

    if (ses == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    ses->refs--;
    destroy = ses->ended && ses->refs == 0;
    pthread_mutex_unlock(&s->mu);
    if (destroy)
        session_destroy(ses);
}

void web_session_end(struct web_sessions *s, struct web_session *ses)
{
    pthread_mutex_lock(&s->mu);
    if (!ses->ended)
        (void)unlink_locked(s, ses); /* the caller holds it: destroyed at release */
    pthread_mutex_unlock(&s->mu);
}

size_t web_sessions_end_user(struct web_sessions *s, const char *username)
{
    struct web_session *dead = NULL, *ses, *next;
    size_t n = 0;

    pthread_mutex_lock(&s->mu);
    for (ses = s->head; ses != NULL; ses = next) {
        next = ses->next;
        if (strcmp(ses->username, username) != 0)
            continue;
        n++;
        if (unlink_locked(s, ses)) {
            ses->next = dead;
            dead = ses;
        }
    }
    pthread_mutex_unlock(&s->mu);
    destroy_list(dead);
    return n;
}

void web_session_lang(struct web_sessions *s, const struct web_session *ses, char out[8])
{
    pthread_mutex_lock(&s->mu);
    memcpy(out, ses->lang, sizeof ses->lang);
    pthread_mutex_unlock(&s->mu);
}

void web_session_set_lang(struct web_sessions *s, struct web_session *ses, const char *lang)
{
    pthread_mutex_lock(&s->mu);
    copy_field(ses->lang, sizeof ses->lang, lang);
    pthread_mutex_unlock(&s->mu);
}

size_t web_sessions_expire(struct web_sessions *s, time_t now)
{
    struct web_session *dead = NULL;
    size_t n;

    pthread_mutex_lock(&s->mu);
    n = expire_locked(s, now, &dead);
    pthread_mutex_unlock(&s->mu);
    destroy_list(dead);
    return n;
}

size_t web_sessions_count(struct web_sessions *s)
{
    size_t n;
    pthread_mutex_lock(&s->mu);
    n = s->count;
    pthread_mutex_unlock(&s->mu);
    return n;
}
