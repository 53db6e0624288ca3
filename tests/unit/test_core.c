/* Unit tests for core/: errors, buffers, codecs, JSON (RFC 8785), time,
 * UTF-8 and normalization, configuration, secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/encode.h"
#include "core/err.h"
#include "core/fanout.h"
#include "core/json.h"
#include "core/log.h"
#include "core/seal.h"
#include "core/secret.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "support/cmocka_main.h"

static void test_err(void **state)
{
    struct err e = ERR_INIT;
    (void)state;
    assert_string_equal(err_msg(&e), "unknown error");
    assert_int_equal(err_set(&e, "png: truncated %s", "IDAT"), -1);
    assert_string_equal(err_msg(&e), "png: truncated IDAT");
    err_prefix(&e, "page-%d.png", 12);
    assert_string_equal(err_msg(&e), "page-12.png: png: truncated IDAT");
    assert_int_equal(err_set(NULL, "ignored"), -1);
    assert_int_equal(err_kind(&e), ERR_INVALID);
    assert_int_equal(err_oom(&e), -1);
    assert_int_equal(err_kind(&e), ERR_INTERNAL);
    assert_string_equal(err_msg(&e), "out of memory");
}

static void test_json_out(void **state)
{
    struct err e = ERR_INIT;
    json_t *got = NULL;
    (void)state;
    assert_int_equal(json_out(&got, json_pack("{s:i}", "n", 1), &e), 0);
    assert_non_null(got);
    assert_int_equal(json_integer_value(json_object_get(got, "n")), 1);
    json_decref(got);
    got = NULL;
    /* A failed json_pack (here: a NULL string) is the allocation failure. */
    assert_int_equal(json_out(&got, json_pack("{s:s}", "n", NULL), &e), -1);
    assert_null(got);
    assert_int_equal(err_kind(&e), ERR_INTERNAL);
    assert_string_equal(err_msg(&e), "out of memory");
}

static void test_buf_cap(void **state)
{
    struct buf b = BUF_INIT(8);
    (void)state;
    assert_int_equal(buf_append_str(&b, "abcd"), 0);
    assert_int_equal(buf_printf(&b, "%d", 1234), 0);
    assert_string_equal(buf_str(&b), "abcd1234");
    /* One byte over the cap fails and releases everything. */
    assert_int_equal(buf_append_byte(&b, 'x'), -1);
    assert_int_equal(b.len, 0);
    assert_null(b.data);
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(buf_append(&b, "zz", 2), 0);
    size_t n = 0;
    unsigned char *p = buf_detach(&b, &n);
    assert_int_equal(n, 2);
    assert_memory_equal(p, "zz", 3);
    free(p);
    assert_null(b.data);
}

/* RFC 4648 §10 test vectors (base64), and base64url without padding. */
static void test_base64_rfc4648(void **state)
{
    static const struct { const char *in, *b64; } v[] = {
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *e = b64_encode(v[i].in, strlen(v[i].in));
        assert_string_equal(e, v[i].b64);
        unsigned char *d = NULL;
        size_t dl = 0;
        assert_int_equal(b64_decode(e, strlen(e), 100, &d, &dl, NULL), 0);
        assert_int_equal(dl, strlen(v[i].in));
        assert_memory_equal(d, v[i].in, dl);
        free(d);
        free(e);
    }
    unsigned char bin[] = { 0xfb, 0xff, 0xbf };
    char *u = b64url_encode(bin, sizeof bin);
    assert_string_equal(u, "-_-_");
    free(u);
    unsigned char *d = NULL;
    size_t dl;
    struct err e = ERR_INIT;
    assert_int_equal(b64url_decode("-_-_", 4, 10, &d, &dl, &e), 0);
    assert_memory_equal(d, bin, 3);
    free(d);
    assert_int_equal(b64url_decode("a$bc", 4, 10, &d, &dl, &e), -1);
    assert_non_null(strstr(err_msg(&e), "base64url"));
    assert_int_equal(b64url_decode("AAAAAAAA", 8, 3, &d, &dl, &e), -1);
}

static void test_hex(void **state)
{
    unsigned char in[] = { 0x00, 0x7f, 0xa5, 0xff }, out[4];
    char hex[9];
    size_t n;
    struct err e = ERR_INIT;
    (void)state;
    assert_string_equal(hex_encode(in, 4, hex), "007fa5ff");
    assert_int_equal(hex_decode("007FA5ff", 8, out, 4, &n, &e), 0);
    assert_memory_equal(out, in, 4);
    assert_int_equal(hex_decode("abc", 3, out, 4, &n, &e), -1);
    assert_int_equal(hex_decode("zz", 2, out, 4, &n, &e), -1);
    assert_int_equal(hex_decode("0011223344", 10, out, 4, &n, &e), -1);
}

static char *canon(const char *json)
{
    json_t *v = NULL;
    struct buf b = BUF_INIT(1 << 20);
    struct err e = ERR_INIT;
    if (json_parse(json, strlen(json), &v, &e) != 0)
        fail_msg("%s", err_msg(&e));
    if (json_canonical(v, &b, &e) != 0) {
        buf_release(&b);
        json_decref(v);
        return NULL;
    }
    json_decref(v);
    return (char *)buf_detach(&b, NULL);
}

/* JSON in canonical form (JCS) is WANT. */
static void assert_canon(const char *json, const char *want)
{
    char *c = canon(json);
    assert_non_null(c);
    assert_string_equal(c, want);
    free(c);
}

/* RFC 8785 §3.2.3: property sorting by UTF-16 code units. */
static void test_jcs_sorting_rfc8785(void **state)
{
    (void)state;
    assert_canon("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\","
                 "\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\",\"1\":\"One\","
                 "\"\\ud83d\\ude00\":\"Emoji: Grinning Face\",\"\\u0080\":\"Control\","
                 "\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}",
                 "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
                 "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
                 "\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x80\":\"Emoji: Grinning "
                 "Face\",\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

/* RFC 8785 §3.2.2.2: string escaping; nested structures; no floats. */
static void test_jcs_values(void **state)
{
    (void)state;
    assert_canon("{ \"b\" : [ 1, -2, true, null, \"\\u0001\\n\\\"\\\\/\\u20ac\" ], \"a\" : {\"z\":0,\"y\":{}} }",
                 "{\"a\":{\"y\":{},\"z\":0},\"b\":[1,-2,true,null,\"\\u0001\\n\\\"\\\\/\xe2\x82\xac\"]}");
    assert_canon("[0,7,-10,9007199254740991,-9007199254740991,{\"n\":-0}]",
                 "[0,7,-10,9007199254740991,-9007199254740991,{\"n\":0}]");
    assert_null(canon("{\"x\":1.5}"));
    assert_null(canon("{\"x\":9007199254740993}"));
}

static void test_json_parse_errors(void **state)
{
    json_t *v = NULL;
    struct err e = ERR_INIT;
    (void)state;
    assert_int_equal(json_parse("{\"a\":1,\"a\":2}", 13, &v, &e), -1);
    assert_non_null(strstr(err_msg(&e), "line 1"));
    assert_int_equal(json_parse("\"\xff\"", 3, &v, &e), -1);
    assert_int_equal(json_parse("{\"a\":\"x\",\"b\":3}", 15, &v, &e), 0);
    const char *s;
    json_int_t n;
    bool present;
    assert_int_equal(json_get_string(v, "a", true, &s, &e), 0);
    assert_string_equal(s, "x");
    assert_int_equal(json_get_string(v, "b", true, &s, &e), -1);
    assert_string_equal(err_msg(&e), "b: must be a string");
    assert_int_equal(json_get_int(v, "b", true, &n, &present, &e), 0);
    assert_int_equal(n, 3);
    assert_int_equal(json_get_int(v, "c", false, &n, &present, &e), 0);
    assert_false(present);
    assert_int_equal(json_get_string(v, "c", true, &s, &e), -1);
    static const char *const allowed[] = { "a", NULL };
    assert_int_equal(json_check_keys(v, allowed, &e), -1);
    assert_string_equal(err_msg(&e), "b: unknown field");
    json_decref(v);
}

static void test_time(void **state)
{
    char s[TIME_ISO8601_LEN + 1];
    time_t t;
    struct err e = ERR_INIT;
    int y, m, d;
    (void)state;
    assert_int_equal(time_iso8601(0, s), 0);
    assert_string_equal(s, "1970-01-01T00:00:00Z");
    assert_int_equal(time_iso8601(951782400, s), 0); /* leap day 2000 */
    assert_string_equal(s, "2000-02-29T00:00:00Z");
    assert_int_equal(time_parse_iso8601("2000-02-29T00:00:00Z", &t, &e), 0);
    assert_int_equal((long long)t, 951782400LL);
    assert_int_equal(time_parse_iso8601("2001-02-29T00:00:00Z", &t, &e), -1);
    assert_int_equal(time_parse_iso8601("2001-02-28T24:00:00Z", &t, &e), -1);
    assert_int_equal(time_parse_iso8601("2001-02-28 10:00:00Z", &t, &e), -1);
    assert_true(date_valid(2024, 2, 29));
    assert_false(date_valid(1900, 2, 29));
    assert_true(date_valid(2000, 2, 29));
    assert_false(date_valid(2023, 4, 31));
    assert_int_equal(date_parse("1974-08-12", &y, &m, &d, &e), 0);
    assert_int_equal(y * 10000 + m * 100 + d, 19740812);
    assert_int_equal(date_parse("1974-8-12", &y, &m, &d, &e), -1);
    assert_int_equal(date_to_days(1970, 1, 1), 0);
    assert_int_equal(date_to_days(1969, 12, 31), -1);
}

static void test_utf8(void **state)
{
    char *out = NULL;
    size_t n;
    struct err e = ERR_INIT;
    (void)state;
    assert_true(utf8_valid("Mu\xcc\x88ller", 8));
    assert_false(utf8_valid("\xc0\xaf", 2));          /* overlong '/' */
    assert_false(utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
    assert_false(utf8_valid("\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
    /* NFC composes u + combining diaeresis into U+00FC. */
    assert_int_equal(utf8_normalize("Mu\xcc\x88ller", 8, UTF8_NFC, &out, &n, &e), 0);
    assert_string_equal(out, "M\xc3\xbcller");
    assert_int_equal(n, 7);
    free(out);
    assert_int_equal(utf8_normalize("\xc3\x85", 2, UTF8_NFD, &out, &n, &e), 0);
    assert_string_equal(out, "A\xcc\x8a");
    free(out);
    /* Hangul syllable decomposes and recomposes (algorithmic, no table). */
    assert_int_equal(utf8_normalize("\xea\xb0\x80", 3, UTF8_NFD, &out, &n, &e), 0);
    assert_int_equal(n, 6);
    free(out);
    assert_int_equal(utf8_normalize("\xff", 1, UTF8_NFC, &out, &n, &e), -1);
    assert_null(out);
    assert_int_equal(utf8_normalize("", 0, UTF8_NFC, &out, &n, &e), 0);
    assert_string_equal(out, "");
    free(out);
    uint32_t cp;
    assert_int_equal(utf8_decode("\xd0\x96", 2, &cp), 2);
    assert_int_equal(cp, 0x416);
    assert_int_equal(utf8_length("\xd0\x96z", 3), 2);
}

/* Text printed on certificates and data pages holds no invisible or
 * reordering characters; the scripts of real names pass. */
static void test_utf8_printable(void **state)
{
    static const uint32_t refused[] = { 0x202e, 0x202a, 0x202b, 0x202c, 0x202d, 0x2066,
                                        0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c,
                                        0x200b, 0x2060, 0xfeff, 0x00ad, 0xe0041, 0x2028,
                                        0x2029, 0x0085, 0x0009, 0x001b, 0x007f };
    static const char *const passed[] = {
        "Øvergaard", "Ayşe", "Иванова", "محمد عبد الله", "Nguyễn Thị", "שָׁלוֹם",
        /* Persian "mi-khwaham": a ZERO WIDTH NON-JOINER is part of the spelling */
        "\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae\xd9\x88\xd8\xa7\xd9\x87\xd9\x85",
        "O'Brien-Smith", "",
    };
    struct err e = ERR_INIT;
    char text[32], enc[4];
    (void)state;

    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        int n = utf8_encode(refused[i], enc);
        assert_true(n > 0);
        /* "Ann<char>Lee": the character hidden inside a name */
        memcpy(text, "Ann", 3);
        memcpy(text + 3, enc, (size_t)n);
        memcpy(text + 3 + n, "Lee", 4);
        err_clear(&e);
        if (utf8_check_printable(text, strlen(text), &e) == 0)
            fail_msg("U+%04X accepted", (unsigned)refused[i]);
        char want[16];
        snprintf(want, sizeof want, "U+%04X", (unsigned)refused[i]);
        assert_non_null(strstr(err_msg(&e), want));
    }
    assert_int_equal(utf8_check_printable("a\xe2\x80\xae" "b", 5, &e), -1);
    assert_non_null(strstr(err_msg(&e), "RIGHT-TO-LEFT OVERRIDE"));
    for (size_t i = 0; i < sizeof passed / sizeof passed[0]; i++)
        if (utf8_check_printable(passed[i], strlen(passed[i]), &e) != 0)
            fail_msg("'%s' refused: %s", passed[i], err_msg(&e));
    assert_int_equal(utf8_check_printable("\xff", 1, &e), -1);
}

static void test_conf(void **state)
{
    struct conf *c = NULL;
    struct err e = ERR_INIT;
    const char *text = "# comment\n  country = UTO  \noffice_name=Bureau d'\xc3\xa9tat civil\n\n";
    (void)state;
    assert_int_equal(conf_parse(text, strlen(text), "t.conf", &c, &e), 0);
    assert_string_equal(conf_get(c, "country", NULL), "UTO");
    assert_string_equal(conf_get(c, "office_name", NULL), "Bureau d'\xc3\xa9tat civil");
    assert_string_equal(conf_get(c, "listen", "dflt"), "dflt");
    conf_free(c);
    assert_int_equal(conf_parse("a=1\na=2\n", 8, "t.conf", &c, &e), -1);
    assert_string_equal(err_msg(&e), "t.conf:2: key 'a' given twice");
    assert_int_equal(conf_parse("Bad = 1\n", 8, "t.conf", &c, &e), -1);
    assert_int_equal(conf_parse("novalue\n", 8, "t.conf", &c, &e), -1);
    assert_int_equal(conf_parse("a=\xff\n", 4, "t.conf", &c, &e), -1);
    conf_free(NULL);
}

static void test_secret(void **state)
{
    unsigned char a[32], b[32];
    (void)state;
    assert_int_equal(secret_init(NULL), 0);
    secret_random(a, sizeof a);
    memcpy(b, a, sizeof a);
    assert_true(secret_equal(a, b, sizeof a));
    b[31] ^= 1;
    assert_false(secret_equal(a, b, sizeof a));
    secret_wipe(a, sizeof a);
    for (size_t i = 0; i < sizeof a; i++)
        assert_int_equal(a[i], 0);
    assert_true(secret_equal_str("token", "token"));
    assert_false(secret_equal_str("token", "token2"));
    assert_false(secret_equal_str("", "x"));
    for (int i = 0; i < 100; i++)
        assert_true(secret_random_below(7) < 7);
}

/* Log forging: whatever a message quotes (a user name typed at sign-in, a
 * path), it is one line; control characters are escaped, a backslash is
 * doubled so an escape cannot be forged either. stderr goes to a file for
 * the test. */
static void test_log_escapes_controls(void **state)
{
    char path[] = "/tmp/civreg-log-XXXXXX", buf[4096];
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    ssize_t n;
    char *nl;
    (void)state;

    assert_true(fd >= 0 && saved >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    log_warn("web: failed sign-in for '%s' from %s", "x\nINFO forged", "127.0.0.1");
    log_warn("quoted: %s", "a\\n\r\t\x1b[31m\x7f\xc2\x85 caf\xc3\xa9");
    assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(saved);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    buf[n] = '\0';
    /* exactly two lines */
    nl = strchr(buf, '\n');
    assert_non_null(nl);
    assert_non_null(strstr(buf, "warn: web: failed sign-in for 'x\\nINFO forged' from 127.0.0.1\n"));
    assert_ptr_equal(strchr(nl + 1, '\n'), buf + n - 1);
    assert_null(strstr(buf, "\nINFO forged"));
    assert_non_null(strstr(nl + 1, "quoted: a\\\\n\\r\\t\\x1b[31m\\x7f\\u0085 caf\xc3\xa9\n"));
}

static void test_log_levels(void **state)
{
    enum log_level l;
    (void)state;
    assert_int_equal(log_parse_level("warn", &l), 0);
    assert_int_equal(l, LOG_WARN);
    assert_int_equal(log_parse_level("loud", &l), -1);
    log_set_level(LOG_OFF);
    log_error("not printed");
    log_set_level(LOG_INFO);
    assert_int_equal(log_get_level(), LOG_INFO);
}

static void test_seal(void **state)
{
    unsigned char key[SEAL_KEY_BYTES], other[SEAL_KEY_BYTES], salt[SEAL_SALT_BYTES] = { 1 };
    struct buf sealed = BUF_INIT(4096);
    unsigned char *plain = NULL;
    size_t n = 0;
    struct err e = ERR_INIT;
    (void)state;
    assert_int_equal(seal_key_from_password("correct horse", salt, false, key, &e), 0);
    assert_int_equal(seal_key_from_password("correct horsf", salt, false, other, &e), 0);
    assert_int_equal(seal_encrypt(key, "ed25519 secret", 14, "user-key:clerk", &sealed, &e), 0);
    assert_int_equal(sealed.len, 14 + SEAL_OVERHEAD);
    assert_int_equal(seal_decrypt(key, sealed.data, sealed.len, "user-key:clerk", &plain, &n, &e), 0);
    assert_int_equal(n, 14);
    assert_memory_equal(plain, "ed25519 secret", 14);
    seal_free(plain, n);
    /* Wrong password, wrong owner, one flipped bit, truncation: all refused. */
    assert_int_equal(seal_decrypt(other, sealed.data, sealed.len, "user-key:clerk", &plain, &n, &e), -1);
    assert_non_null(strstr(err_msg(&e), "wrong key"));
    assert_int_equal(seal_decrypt(key, sealed.data, sealed.len, "user-key:clerk2", &plain, &n, &e), -1);
    sealed.data[sealed.len - 1] ^= 1;
    assert_int_equal(seal_decrypt(key, sealed.data, sealed.len, "user-key:clerk", &plain, &n, &e), -1);
    assert_int_equal(seal_decrypt(key, sealed.data, 10, "user-key:clerk", &plain, &n, &e), -1);
    assert_null(plain);
    buf_release(&sealed);

    /* Key files: created 0600, loaded back identical, refused when loose. */
    char path[] = "/tmp/civreg-test-keyfile-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    unsigned char k1[SEAL_KEY_BYTES], k2[SEAL_KEY_BYTES];
    assert_int_equal(seal_keyfile_load(path, false, k1, &e), -1);
    assert_int_equal(seal_keyfile_load(path, true, k1, &e), 0);
    assert_int_equal(seal_keyfile_load(path, false, k2, &e), 0);
    assert_memory_equal(k1, k2, SEAL_KEY_BYTES);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(seal_keyfile_load(path, false, k2, &e), -1);
    assert_non_null(strstr(err_msg(&e), "chmod 600"));
    unlink(path);
}

struct fanout_job {
    size_t runs;
    char pad[40]; /* jobs are SIZE bytes apart, not packed */
};

static void *fanout_job_run(void *arg)
{
    struct fanout_job *j = arg;
    j->runs++;
    return NULL;
}

/* Every job runs exactly once: none, one, a few, and more than get a
 * thread each. */
static void test_fanout(void **state)
{
    static struct fanout_job jobs[FANOUT_MAX + 9];
    static const size_t counts[] = { 0, 1, 2, 7, FANOUT_MAX, FANOUT_MAX + 9 };
    (void)state;

    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        memset(jobs, 0, sizeof jobs);
        fanout_run(jobs, counts[c], sizeof jobs[0], fanout_job_run);
        for (size_t k = 0; k < sizeof jobs / sizeof jobs[0]; k++)
            assert_int_equal(jobs[k].runs, k < counts[c] ? 1 : 0);
    }
}

/* A deadline MS from now: normalized (nanoseconds below one second), not
 * before now + MS, and soon after it. */
static void test_time_after_ms(void **state)
{
    static const unsigned long ms[] = { 0, 1, 999, 1000, 1500, 5000, 86400000UL };
    (void)state;

    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        struct timespec before, t;
        clock_gettime(CLOCK_MONOTONIC, &before);
        t = time_after_ms(CLOCK_MONOTONIC, ms[i]);
        assert_true(t.tv_nsec >= 0 && t.tv_nsec < 1000000000L);
        long double want = (long double)before.tv_sec + before.tv_nsec / 1e9L + ms[i] / 1e3L;
        long double got = (long double)t.tv_sec + t.tv_nsec / 1e9L;
        assert_true(got >= want);
        assert_true(got < want + 1.0L);
    }
}

CMOCKA_MAIN_WITH((.group = "core"), test_err, test_json_out, test_log_escapes_controls,
                 test_buf_cap, test_base64_rfc4648, test_hex, test_jcs_sorting_rfc8785,
                 test_jcs_values, test_json_parse_errors, test_time, test_utf8, test_utf8_printable,
                 test_conf, test_secret, test_log_levels, test_seal, test_fanout,
                 test_time_after_ms)
