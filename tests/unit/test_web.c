/* Unit tests of web/: session store, sign-in throttle, route matching, the
 * access decision over the whole route table, HTML escaping, the OpenAPI
 * document against the table, embedded assets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/secret.h"
#include "web/web_int.h"
#include "support/cmocka_main.h"

/* A stand-in for the registry actor: records that it was freed, and checks
 * the store never frees it twice. */
struct fake_actor {
    int *freed;
};

static void fake_free(void *p)
{
    struct fake_actor *a = p;
    (*a->freed)++;
    free(a);
}

static struct fake_actor *fake_new(int *freed)
{
    struct fake_actor *a = malloc(sizeof *a);
    assert_non_null(a);
    a->freed = freed;
    return a;
}

static struct web_sessions *store(time_t idle, time_t absolute, size_t max)
{
    struct web_session_limits lim = { idle, absolute, max };
    struct web_sessions *s = NULL;
    struct err err = ERR_INIT;
    assert_int_equal(web_sessions_new(&lim, &s, &err), 0);
    return s;
}

static void test_session_lifecycle(void **state)
{
    struct web_sessions *s = store(60, 3600, 100);
    char tok[WEB_TOKEN_LEN + 1], csrf[WEB_TOKEN_LEN + 1], tok2[WEB_TOKEN_LEN + 1],
        csrf2[WEB_TOKEN_LEN + 1];
    struct err err = ERR_INIT;
    struct web_session *ses;
    int freed = 0;
    (void)state;

    assert_int_equal(web_session_create(s, fake_new(&freed), fake_free, "amina", "OFF-1",
                                        WEB_ROLE_CLERK, "fr", 1000, tok, csrf, &err), 0);
    assert_int_equal(strlen(tok), WEB_TOKEN_LEN);
    assert_int_equal(strlen(csrf), WEB_TOKEN_LEN);
    assert_string_not_equal(tok, csrf);
    assert_int_equal(web_session_create(s, fake_new(&freed), fake_free, "bob", "OFF-1",
                                        WEB_ROLE_AUDITOR, NULL, 1000, tok2, csrf2, &err), 0);
    assert_string_not_equal(tok, tok2);
    assert_string_not_equal(csrf, csrf2);
    assert_int_equal(web_sessions_count(s), 2);

    ses = web_session_acquire(s, tok, 1010);
    assert_non_null(ses);
    assert_string_equal(ses->username, "amina");
    assert_string_equal(ses->csrf, csrf);
    assert_int_equal(ses->roles, WEB_ROLE_CLERK);
    char lang[8];
    web_session_lang(s, ses, lang);
    assert_string_equal(lang, "fr");
    web_session_release(s, ses);

    /* Unknown, malformed, one character changed: nothing. */
    assert_null(web_session_acquire(s, "", 1010));
    assert_null(web_session_acquire(s, "not a token", 1010));
    char bad[WEB_TOKEN_LEN + 1];
    memcpy(bad, tok, sizeof bad);
    bad[5] = bad[5] == 'A' ? 'B' : 'A';
    assert_null(web_session_acquire(s, bad, 1010));

    /* Sign-out while another request holds the session: the actor lives
     * until that request releases it, and the token no longer works. */
    ses = web_session_acquire(s, tok, 1020);
    struct web_session *held = web_session_acquire(s, tok, 1020);
    assert_ptr_equal(ses, held);
    web_session_end(s, ses);
    assert_null(web_session_acquire(s, tok, 1021));
    web_session_release(s, ses);
    assert_int_equal(freed, 0);
    web_session_release(s, held);
    assert_int_equal(freed, 1);
    assert_int_equal(web_sessions_count(s), 1);

    /* The store frees what is left. */
    web_sessions_free(s);
    assert_int_equal(freed, 2);
}

/* An admin's change to an account ends every session of that user at once
 * (keys wiped), one held by a request when it is released; other users'
 * sessions stay. */
static void test_sessions_end_user(void **state)
{
    struct web_sessions *s = store(60, 3600, 100);
    char tok[3][WEB_TOKEN_LEN + 1], csrf[WEB_TOKEN_LEN + 1];
    const char *const users[3] = { "amina", "amina", "amina2" };
    struct err err = ERR_INIT;
    struct web_session *held;
    int freed = 0;
    (void)state;

    for (int i = 0; i < 3; i++)
        assert_int_equal(web_session_create(s, fake_new(&freed), fake_free, users[i], "OFF-1",
                                            WEB_ROLE_CLERK, "en", 1000, tok[i], csrf, &err),
                         0);
    held = web_session_acquire(s, tok[0], 1001);
    assert_non_null(held);
    assert_int_equal(web_sessions_end_user(s, "amina"), 2);
    assert_int_equal(freed, 1); /* the one nobody holds */
    assert_null(web_session_acquire(s, tok[0], 1002));
    assert_null(web_session_acquire(s, tok[1], 1002));
    web_session_release(s, held);
    assert_int_equal(freed, 2);
    held = web_session_acquire(s, tok[2], 1002);
    assert_non_null(held);
    web_session_release(s, held);
    assert_int_equal(web_sessions_count(s), 1);
    assert_int_equal(web_sessions_end_user(s, "nobody"), 0);
    web_sessions_free(s);
    assert_int_equal(freed, 3);
}

static void test_session_timeouts(void **state)
{
    struct web_sessions *s = store(60, 300, 100);
    char tok[WEB_TOKEN_LEN + 1], csrf[WEB_TOKEN_LEN + 1];
    struct err err = ERR_INIT;
    struct web_session *ses;
    int freed = 0;
    (void)state;

    assert_int_equal(web_session_create(s, fake_new(&freed), fake_free, "u", "", WEB_ROLE_ADMIN,
                                        "en", 1000, tok, csrf, &err), 0);
    /* Active every 50 s: the idle timeout (60 s) never strikes... */
    for (time_t t = 1050; t < 1300; t += 50) {
        ses = web_session_acquire(s, tok, t);
        assert_non_null(ses);
        web_session_release(s, ses);
    }
    /* ...but the absolute one (300 s after sign-in) does. */
    assert_null(web_session_acquire(s, tok, 1300));
    assert_int_equal(freed, 1);

    /* Idle: 60 s without a request ends it, at the sweep. */
    assert_int_equal(web_session_create(s, fake_new(&freed), fake_free, "u", "", WEB_ROLE_ADMIN,
                                        "en", 2000, tok, csrf, &err), 0);
    assert_int_equal(web_sessions_expire(s, 2059), 0);
    assert_int_equal(web_sessions_expire(s, 2060), 1);
    assert_int_equal(freed, 2);
    assert_null(web_session_acquire(s, tok, 2061));

    /* A clock that goes back does not revive or keep a session. */
    assert_int_equal(web_session_create(s, fake_new(&freed), fake_free, "u", "", WEB_ROLE_ADMIN,
                                        "en", 3000, tok, csrf, &err), 0);
    assert_null(web_session_acquire(s, tok, 2000));
    assert_int_equal(freed, 3);
    web_sessions_free(s);
}

static void test_session_cap(void **state)
{
    struct web_sessions *s = store(600, 3600, 3);
    char tok[4][WEB_TOKEN_LEN + 1], csrf[WEB_TOKEN_LEN + 1];
    struct err err = ERR_INIT;
    struct web_session *ses;
    int freed = 0;
    (void)state;

    for (int i = 0; i < 3; i++)
        assert_int_equal(web_session_create(s, fake_new(&freed), fake_free, "u", "",
                                            WEB_ROLE_CLERK, "en", 1000 + i, tok[i], csrf, &err),
                         0);
    /* Touch the first: the second is now idle the longest. */
    ses = web_session_acquire(s, tok[0], 1010);
    web_session_release(s, ses);
    assert_int_equal(web_session_create(s, fake_new(&freed), fake_free, "u", "", WEB_ROLE_CLERK,
                                        "en", 1011, tok[3], csrf, &err), 0);
    assert_int_equal(web_sessions_count(s), 3);
    assert_int_equal(freed, 1);
    assert_null(web_session_acquire(s, tok[1], 1012));
    ses = web_session_acquire(s, tok[0], 1012);
    assert_non_null(ses);
    web_session_release(s, ses);
    web_sessions_free(s);
    assert_int_equal(freed, 4);
}

static void test_throttle(void **state)
{
    /* pair: 3 free, then 30 s doubling to 240; address: 5; global: 40 */
    const struct web_throttle_limits lim = { { 3, 30, 240 }, { 5, 60, 240 }, { 40, 5, 60 }, 600, 8 };
    struct web_throttle *t = NULL;
    struct err err = ERR_INIT;
    (void)state;

    assert_int_equal(web_throttle_new(&lim, &t, &err), 0);
    assert_int_equal(web_throttle_check(t, "amina", "10.0.0.1", 100), 0);
    web_throttle_failure(t, "amina", "10.0.0.1", 100);
    web_throttle_failure(t, "amina", "10.0.0.1", 101);
    assert_int_equal(web_throttle_check(t, "amina", "10.0.0.1", 102), 0);
    web_throttle_failure(t, "amina", "10.0.0.1", 102);
    /* Third failure: that address waits 30 s for that name... */
    assert_int_equal(web_throttle_check(t, "amina", "10.0.0.1", 102), 30);
    assert_int_equal(web_throttle_check(t, "amina", "10.0.0.1", 120), 12);
    assert_int_equal(web_throttle_check(t, "amina", "10.0.0.1", 132), 0);
    /* ...but amina at her own desk, and others at the guessing one, do not. */
    assert_int_equal(web_throttle_check(t, "amina", "10.0.0.9", 102), 0);
    assert_int_equal(web_throttle_check(t, "bob", "10.0.0.1", 102), 0);
    /* Each further failure doubles the delay, up to the maximum. */
    web_throttle_failure(t, "amina", "10.0.0.1", 132);
    assert_int_equal(web_throttle_check(t, "amina", "10.0.0.1", 132), 60);
    web_throttle_failure(t, "amina", "10.0.0.1", 200);
    assert_int_equal(web_throttle_check(t, "amina", "10.0.0.1", 200), 120);
    for (int i = 0; i < 7; i++)
        web_throttle_failure(t, "amina", "10.0.0.3", 400);
    assert_int_equal(web_throttle_check(t, "amina", "10.0.0.3", 400), 240);
    /* The address has its own, higher allowance (5, then 60 s doubling):
     * 10.0.0.3 went 2 past it, for every name. */
    assert_int_equal(web_throttle_check(t, "bob", "10.0.0.3", 400), 240);
    assert_int_equal(web_throttle_check(t, "bob", "10.0.0.4", 400), 0);
    /* One address guessing across many names is slowed down for all names. */
    for (int i = 0; i < 5; i++) {
        char u[16];
        snprintf(u, sizeof u, "user%d", i);
        web_throttle_failure(t, u, "10.6.6.6", 500);
    }
    assert_true(web_throttle_check(t, "carol", "10.6.6.6", 500) > 0);
    assert_int_equal(web_throttle_check(t, "carol", "10.0.0.7", 500), 0);
    /* A success clears its own pair only. */
    web_throttle_failure(t, "dave", "10.0.0.8", 500);
    web_throttle_failure(t, "dave", "10.0.0.8", 500);
    web_throttle_success(t, "dave", "10.0.0.9", 501);
    web_throttle_failure(t, "dave", "10.0.0.8", 502);
    assert_int_equal(web_throttle_check(t, "dave", "10.0.0.8", 502), 30);
    web_throttle_failure(t, "erin", "10.0.0.10", 503);
    web_throttle_failure(t, "erin", "10.0.0.10", 503);
    web_throttle_success(t, "erin", "10.0.0.10", 504);
    web_throttle_failure(t, "erin", "10.0.0.10", 505);
    assert_int_equal(web_throttle_check(t, "erin", "10.0.0.10", 505), 0);
    /* A run of failures is forgotten a window after it began. */
    assert_int_equal(web_throttle_check(t, "amina", "10.0.0.1", 100 + 600), 0);
    web_throttle_failure(t, "amina", "10.0.0.1", 100 + 600);
    assert_int_equal(web_throttle_check(t, "amina", "10.0.0.1", 100 + 600), 0);
    web_throttle_free(t);

    /* The global ceiling: many addresses, each under its own allowances,
     * together slow every sign-in down (5 s doubling to 60). */
    assert_int_equal(web_throttle_new(&lim, &t, &err), 0);
    for (int i = 0; i < 39; i++) {
        char a[32];
        snprintf(a, sizeof a, "10.9.0.%d", i);
        web_throttle_failure(t, "x", a, 1000);
    }
    assert_int_equal(web_throttle_check(t, "someone", "10.0.0.1", 1000), 0);
    web_throttle_failure(t, "x", "10.9.1.1", 1000);
    assert_int_equal(web_throttle_check(t, "someone", "10.0.0.1", 1000), 5);
    assert_int_equal(web_throttle_check(t, "someone", "10.0.0.1", 1005), 0);
    web_throttle_free(t);

    /* Bounded memory: many keys, still answers, the newest remembered. */
    assert_int_equal(web_throttle_new(&lim, &t, &err), 0);
    for (int i = 0; i < 100; i++) {
        char u[16], a[32];
        snprintf(u, sizeof u, "x%d", i);
        snprintf(a, sizeof a, "10.1.%d.1", i);
        for (int k = 0; k < 3; k++)
            web_throttle_failure(t, u, a, 600 + i);
    }
    assert_true(web_throttle_check(t, "x99", "10.1.99.1", 699) > 0);
    web_throttle_free(t);

    /* A rule with no allowance is off; bad limits are refused. */
    const struct web_throttle_limits bad = { { 3, 30, 10 }, { 0, 0, 0 }, { 0, 0, 0 }, 600, 8 };
    assert_int_equal(web_throttle_new(&bad, &t, &err), -1);
    assert_null(t);
}

/* X-Forwarded-For counts only from a trusted proxy, and only its rightmost
 * entry that is not itself a trusted proxy. */
static void test_client_addr(void **state)
{
    struct web_addrset set;
    struct err err = ERR_INIT;
    char out[WEB_ADDR_MAX];
    (void)state;

    assert_int_equal(web_addrset_parse("127.0.0.1, 10.1.0.0/16 ::1", &set, &err), 0);
    assert_int_equal(set.n, 3);
    assert_true(web_addrset_contains(&set, "127.0.0.1"));
    assert_true(web_addrset_contains(&set, "::ffff:127.0.0.1"));
    assert_true(web_addrset_contains(&set, "10.1.200.3"));
    assert_false(web_addrset_contains(&set, "10.2.0.1"));
    assert_true(web_addrset_contains(&set, "::1"));
    assert_false(web_addrset_contains(&set, "not an address"));
    assert_int_equal(web_addrset_parse("", &set, &err), 0);
    assert_int_equal(set.n, 0);
    assert_int_equal(web_addrset_parse(NULL, &set, &err), 0);
    assert_int_equal(web_addrset_parse("127.0.0.1, proxy.local", &set, &err), -1);
    assert_non_null(strstr(err_msg(&err), "proxy.local"));
    assert_int_equal(web_addrset_parse("10.0.0.0/33", &set, &err), -1);

    assert_int_equal(web_addrset_parse("127.0.0.1,10.1.0.0/16", &set, &err), 0);
    static const struct {
        const char *peer, *forwarded, *want;
    } resolve[] = {
        /* An untrusted peer: its X-Forwarded-For is ignored. */
        { "192.0.2.7", "198.51.100.1", "192.0.2.7" },
        /* A trusted peer: the address it appended. */
        { "127.0.0.1", "198.51.100.1", "198.51.100.1" },
        /* The client's own "X-Forwarded-For: 1.2.3.4" is to the left: ignored. */
        { "127.0.0.1", "1.2.3.4, 198.51.100.1", "198.51.100.1" },
        /* Two trusted proxies in a row: the first untrusted from the right. */
        { "127.0.0.1", "1.2.3.4,198.51.100.1, 10.1.0.9", "198.51.100.1" },
        /* No header, or garbage where the proxy writes: the peer. */
        { "127.0.0.1", NULL, "127.0.0.1" },
        { "127.0.0.1", "1.2.3.4, <script>", "127.0.0.1" },
        /* Written with a port or in brackets; IPv6 made canonical. */
        { "127.0.0.1", "198.51.100.1:4711", "198.51.100.1" },
        { "::ffff:127.0.0.1", "[2001:DB8:0::1]:443", "2001:db8::1" },
    };
    for (size_t i = 0; i < sizeof resolve / sizeof resolve[0]; i++) {
        web_client_addr_resolve(&set, resolve[i].peer, resolve[i].forwarded, out);
        if (strcmp(out, resolve[i].want) != 0)
            fail_msg("peer %s, X-Forwarded-For %s: %s, want %s", resolve[i].peer,
                     resolve[i].forwarded ? resolve[i].forwarded : "(none)", out, resolve[i].want);
    }
}

/* The connection gate counts per address and lets an address in again as
 * its connections close. */
static void test_conngate(void **state)
{
    struct web_conngate *g = NULL;
    struct err err = ERR_INIT;
    void *a[3], *b, *c;
    (void)state;

    assert_int_equal(web_conngate_new(2, 2, NULL, &g, &err), 0);
    a[0] = web_conngate_enter(g, "10.0.0.1");
    a[1] = web_conngate_enter(g, "10.0.0.1");
    assert_non_null(a[0]);
    assert_non_null(a[1]);
    a[2] = web_conngate_enter(g, "10.0.0.1");
    assert_null(a[2]);
    b = web_conngate_enter(g, "10.0.0.2");
    assert_non_null(b);
    /* Table full: a third address is let in uncounted. */
    c = web_conngate_enter(g, "10.0.0.3");
    assert_non_null(c);
    web_conngate_leave(g, c);
    assert_int_equal(web_conngate_refused(g), 1);
    assert_int_equal(web_conngate_refused(g), 0);
    web_conngate_leave(g, a[0]);
    a[2] = web_conngate_enter(g, "10.0.0.1");
    assert_non_null(a[2]);
    web_conngate_leave(g, a[1]);
    web_conngate_leave(g, a[2]);
    web_conngate_leave(g, b);
    /* All closed: the slots are free for others. */
    assert_non_null(b = web_conngate_enter(g, "10.0.0.4"));
    assert_non_null(c = web_conngate_enter(g, "10.0.0.5"));
    assert_non_null(a[0] = web_conngate_enter(g, "10.0.0.5"));
    assert_null(web_conngate_enter(g, "10.0.0.5"));
    web_conngate_leave(g, b);
    web_conngate_leave(g, c);
    web_conngate_leave(g, a[0]);
    web_conngate_leave(g, NULL);
    web_conngate_free(g);
    web_conngate_free(NULL);
}

static void test_route_match(void **state)
{
    static const struct web_route table[] = {
        { "GET", "/api/v1/records", "record.read", WEB_API, NULL, "" },
        { "GET", "/api/v1/records/{id}", "record.read", WEB_API, NULL, "" },
        { "POST", "/api/v1/records/{id}/verify", "record.read", WEB_API, NULL, "" },
        { "GET", "/static/*", NULL, WEB_ASSET, NULL, "" },
        { NULL, NULL, 0, 0, NULL, NULL },
    };
    struct web_request rq;
    char allow[64];
    int st = 0;
    (void)state;

    memset(&rq, 0, sizeof rq);
    assert_ptr_equal(web_route_match(table, "GET", "/api/v1/records", &rq, &st, allow, 64),
                     &table[0]);
    assert_ptr_equal(web_route_match(table, "HEAD", "/api/v1/records", &rq, &st, allow, 64),
                     &table[0]);
    assert_ptr_equal(web_route_match(table, "GET", "/api/v1/records/B-7", &rq, &st, allow, 64),
                     &table[1]);
    assert_int_equal(rq.nparams, 1);
    assert_int_equal(rq.params[0].len, 3);
    assert_memory_equal(rq.params[0].p, "B-7", 3);
    assert_ptr_equal(web_route_match(table, "POST", "/api/v1/records/B-7/verify", &rq, &st, allow,
                                     64),
                     &table[2]);
    assert_null(web_route_match(table, "GET", "/api/v1/records/B-7/verify", &rq, &st, allow, 64));
    assert_int_equal(st, 405);
    assert_string_equal(allow, "POST");
    assert_null(web_route_match(table, "GET", "/api/v1/records/", &rq, &st, allow, 64));
    assert_int_equal(st, 404);
    assert_null(web_route_match(table, "GET", "/api/v1/recordsX", &rq, &st, allow, 64));
    assert_int_equal(st, 404);
    assert_null(web_route_match(table, "GET", "/api/v1/records/a/b", &rq, &st, allow, 64));
    assert_int_equal(st, 404);
    assert_ptr_equal(web_route_match(table, "GET", "/static/js/app.js", &rq, &st, allow, 64),
                     &table[3]);
}

/* Every route of the real table × signed out and each single role, for a
 * request with and without the right CSRF token. */
static void test_access_matrix(void **state)
{
    const char *why;
    (void)state;

    for (const struct web_route *r = web_routes; r->method != NULL; r++) {
        bool changes = web_method_changes_state(r->method);
        int st = web_access_check(r, r->method, false, 0, NULL, NULL, &why);
        if (r->action == NULL)
            assert_int_equal(st, 0);
        else
            assert_int_equal(st, (r->flags & WEB_PAGE) ? 303 : 401);
        /* Deny by default: every route is public or names roles. */
        assert_true(r->action == NULL || (web_route_roles(r) & WEB_ROLES_ALL) != 0);
        for (unsigned bit = 0; bit < 7; bit++) {
            unsigned role = 1u << bit;
            int want = r->action == NULL || (web_route_roles(r) & role) ? 0 : 403;
            st = web_access_check(r, r->method, true, role, "T0KEN", "T0KEN", &why);
            assert_int_equal(st, want);
            if (want == 0 && changes && !(r->flags & WEB_NO_CSRF) && r->action != NULL) {
                assert_int_equal(web_access_check(r, r->method, true, role, "T0KEN", NULL, &why),
                                 403);
                assert_string_equal(why, "csrf");
                assert_int_equal(web_access_check(r, r->method, true, role, "T0KEN", "", &why),
                                 403);
                assert_int_equal(
                    web_access_check(r, r->method, true, role, "T0KEN", "T0KEM", &why), 403);
                assert_int_equal(
                    web_access_check(r, r->method, true, role, "T0KEN", "T0KEN2", &why), 403);
            }
        }
    }
    /* Only the sign-in itself and the public seal check (which changes
     * nothing and needs no session) are exempt from CSRF. */
    for (const struct web_route *r = web_routes; r->method != NULL; r++)
        if (r->flags & WEB_NO_CSRF)
            assert_true(r->handler == web_handle_session_create ||
                        r->handler == web_api_seal_verify);
}

static void test_html_escape(void **state)
{
    struct buf b = BUF_INIT(1024);
    const char *in = "<script>alert('x')</script> & \"Zoë\" ذكرى";
    (void)state;

    assert_int_equal(web_html_escape(&b, in, strlen(in)), 0);
    assert_string_equal(buf_str(&b), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
                                     "&quot;Zoë&quot; ذكرى");
    buf_release(&b);
    struct buf small = BUF_INIT(8);
    assert_int_equal(web_html_escape(&small, "<<<<", 4), -1);
    buf_release(&small);
}

/* The OpenAPI document lists exactly the /api/v1 routes, each with its
 * roles, and nothing else. */
static void test_openapi_matches_routes(void **state)
{
    json_t *doc = web_openapi(web_routes), *paths;
    size_t n_api = 0, n_doc = 0;
    const char *path;
    json_t *item;
    (void)state;

    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
    paths = json_object_get(doc, "paths");
    for (const struct web_route *r = web_routes; r->method != NULL; r++) {
        char m[8];
        size_t i;
        if (strncmp(r->path, "/api/v1/", 8) != 0)
            continue;
        n_api++;
        for (i = 0; r->method[i]; i++)
            m[i] = (char)(r->method[i] - 'A' + 'a');
        m[i] = '\0';
        json_t *op = json_object_get(json_object_get(paths, r->path + 7), m);
        assert_non_null(op);
        json_t *roles = json_object_get(op, "x-civreg-roles");
        if (r->action == NULL) {
            assert_string_equal(json_string_value(json_array_get(roles, 0)), "public");
        } else {
            for (unsigned b = 0; b < 7; b++) {
                bool listed = false;
                for (size_t k = 0; k < json_array_size(roles); k++)
                    listed |= strcmp(json_string_value(json_array_get(roles, k)),
                                     web_role_names[b]) == 0;
                assert_int_equal(listed, (web_route_roles(r) & (1u << b)) != 0);
            }
            assert_non_null(json_object_get(json_object_get(op, "responses"), "401"));
        }
        assert_non_null(json_object_get(json_object_get(op, "responses"), "200"));
    }
    json_object_foreach(paths, path, item) n_doc += json_object_size(item);
    assert_int_equal(n_doc, n_api);
    json_decref(doc);
}

static void test_assets(void **state)
{
    char fp[17], fp2[17];
    (void)state;
    web_assets_fingerprint(fp);
    web_assets_fingerprint(fp2);
    assert_int_equal(strlen(fp), 16);
    assert_string_equal(fp, fp2);
    assert_non_null(web_asset_find("js/app.js"));
    assert_non_null(web_asset_find("css/app.css"));
    assert_non_null(web_asset_find("i18n/en.json"));
    assert_non_null(web_asset_find("i18n/fr.json"));
    assert_null(web_asset_find("../web.h"));
    assert_string_equal(web_asset_type("js/app.js"), "text/javascript; charset=utf-8");
    assert_string_equal(web_asset_type("css/app.css"), "text/css; charset=utf-8");
    assert_string_equal(web_asset_type("x.bin"), "application/octet-stream");

    /* The English and French tables have the same keys, and every string
     * a screen asks for exists in both. */
    const struct embedded_file *en = web_asset_find("i18n/en.json");
    const struct embedded_file *fr = web_asset_find("i18n/fr.json");
    json_error_t je;
    json_t *je_en = json_loadb((const char *)en->data, en->len, 0, &je);
    json_t *je_fr = json_loadb((const char *)fr->data, fr->len, 0, &je);
    assert_non_null(je_en);
    assert_non_null(je_fr);
    const char *key;
    json_t *v;
    json_object_foreach(je_en, key, v) assert_non_null(json_object_get(je_fr, key));
    assert_int_equal(json_object_size(je_en), json_object_size(je_fr));
    json_decref(je_en);
    json_decref(je_fr);
}

CMOCKA_MAIN_WITH((.group = "web", .secret = 1), test_session_lifecycle, test_session_timeouts,
                 test_session_cap, test_sessions_end_user, test_throttle, test_client_addr,
                 test_conngate, test_route_match, test_access_matrix, test_html_escape,
                 test_openapi_matches_routes, test_assets)
