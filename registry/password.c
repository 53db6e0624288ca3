/* civreg registry: the password policy, one place for the CLI and the web.
 *
 * NIST SP 800-63B §5.1.1.2: a minimum length, a generous maximum, and a
 * check against values known to be commonly used or expected, rather than
 * composition rules. The common values are the bases in the embedded list
 * registry/passwords/common.txt; a password is reduced to its base before
 * the comparison (lowercased, digits and punctuation removed at both ends,
 * letter substitutions undone), so "Password2024!" and "p@ssw0rd123" are
 * refused with "password". A password containing the user name is refused
 * too (§5.1.1.2 "context-specific words"). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/embed.h"
#include "core/secret.h"
#include "registry.h"

extern const struct embedded_file registry_password_files[];
extern const size_t registry_password_files_count;

/* Only user names this long count as "contained": a two-letter name would
 * refuse a large share of good passwords for no gain. */
#define USERNAME_CONTAINED_MIN 3

static const char *const problem_codes[] = {
    "password_ok", "password_too_short", "password_too_long", "password_common",
    "password_has_username",
};

const char *registry_password_problem_code(int problem)
{
    if (problem < 0 || (size_t)problem >= sizeof problem_codes / sizeof problem_codes[0])
        return "password_invalid";
    return problem_codes[problem];
}

static size_t code_points(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Digits, ASCII punctuation and spaces: what people add around a word. */
static bool filler(char c)
{
    return (c >= '0' && c <= '9') || c == ' ' ||
           ((unsigned char)c < 0x80 && c > ' ' && c < 0x7f && !(c >= 'a' && c <= 'z') &&
            !(c >= 'A' && c <= 'Z'));
}

static char unleet(char c)
{
    switch (c) {
    case '@': case '4': return 'a';
    case '0': return 'o';
    case '3': return 'e';
    case '1': case '!': case '|': return 'i';
    case '$': case '5': return 's';
    case '7': return 't';
    default: return c;
    }
}

/* Is WORD (LEN bytes) a line of the embedded list? */
static bool listed(const char *word, size_t len)
{
    const struct embedded_file *f = embedded_find(registry_password_files,
                                                  registry_password_files_count, "common.txt");
    const char *p, *end;

    if (f == NULL || len == 0)
        return false;
    p = (const char *)f->data;
    end = p + f->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n == len && p[0] != '#' && memcmp(p, word, len) == 0)
            return true;
        p += n + 1;
    }
    return false;
}

/* BASE is one short unit ("abab...") or a listed word repeated. */
static bool repeated(const char *base, size_t len)
{
    for (size_t unit = 1; unit <= len / 2; unit++) {
        size_t i;
        if (len % unit != 0)
            continue;
        for (i = unit; i < len && base[i] == base[i - unit]; i++)
            ;
        if (i == len && (unit <= 4 || listed(base, unit)))
            return true;
    }
    return false;
}

/* BASE is two listed words ("welcomeadmin"). */
static bool two_words(const char *base, size_t len)
{
    for (size_t cut = 1; cut < len; cut++)
        if (listed(base, cut) && listed(base + cut, len - cut))
            return true;
    return false;
}

static bool contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    if (nlen == 0 || nlen > hlen)
        return false;
    for (size_t i = 0; i + nlen <= hlen; i++)
        if (memcmp(hay + i, needle, nlen) == 0)
            return true;
    return false;
}

int registry_password_check(const char *username, const char *password, struct err *err)
{
    size_t len = password ? strlen(password) : 0, ulen = username ? strlen(username) : 0;
    size_t start = 0, end;
    char *low = NULL, *base = NULL, uname[64];
    int problem = REGISTRY_PASSWORD_OK;

    if (len > REGISTRY_PASSWORD_MAX) {
        err_set(err, "password: longer than %d bytes", REGISTRY_PASSWORD_MAX);
        return REGISTRY_PASSWORD_TOO_LONG;
    }
    if (code_points(password ? password : "", len) < REGISTRY_PASSWORD_MIN) {
        err_set(err, "password: must be at least %d characters", REGISTRY_PASSWORD_MIN);
        return REGISTRY_PASSWORD_TOO_SHORT;
    }
    if ((low = malloc(len + 1)) == NULL || (base = malloc(len + 1)) == NULL) {
        free(low);
        err_setk(err, ERR_INTERNAL, "password: out of memory");
        return REGISTRY_PASSWORD_COMMON; /* refuse rather than accept unchecked */
    }
    for (size_t i = 0; i < len; i++)
        low[i] = lower(password[i]);
    low[len] = '\0';
    end = len;
    while (start < end && filler(low[start]))
        start++;
    while (end > start && filler(low[end - 1]))
        end--;
    for (size_t i = start; i < end; i++)
        base[i - start] = unleet(low[i]);
    base[end - start] = '\0';

    if (ulen >= USERNAME_CONTAINED_MIN && ulen < sizeof uname) {
        for (size_t i = 0; i < ulen; i++)
            uname[i] = lower(username[i]);
        if (contains(low, len, uname, ulen) || contains(base, end - start, uname, ulen)) {
            err_set(err, "password: must not contain the user name");
            problem = REGISTRY_PASSWORD_HAS_USERNAME;
            goto out;
        }
    }
    if (end == start || listed(base, end - start) || repeated(base, end - start) ||
        two_words(base, end - start)) {
        err_set(err, "password: too common or too easy to guess; choose a longer phrase of "
                     "unrelated words");
        problem = REGISTRY_PASSWORD_COMMON;
    }
out:
    secret_wipe(low, len);
    secret_wipe(base, len);
    secret_wipe(uname, sizeof uname);
    free(low);
    free(base);
    return problem;
}
