/* civreg registry: unique identification numbers (UIN).
 *
 * Ten digits: nine drawn from libsodium's CSPRNG and a Verhoeff check digit
 * (J. Verhoeff, "Error Detecting Decimal Codes", 1969: the dihedral group
 * D5), which catches every single-digit error and every transposition of
 * adjacent digits. Numbers easy to mistype or guess are never issued: no
 * leading 0 or 1, no run of three equal digits (555) and no sequence of
 * three consecutive digits up or down (123, 987). */
#include <string.h>

#include "registry_int.h"

/* d(j, k): multiplication in D5. */
static const unsigned char verhoeff_d[10][10] = {
    { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 2, 3, 4, 0, 6, 7, 8, 9, 5 },
    { 2, 3, 4, 0, 1, 7, 8, 9, 5, 6 }, { 3, 4, 0, 1, 2, 8, 9, 5, 6, 7 },
    { 4, 0, 1, 2, 3, 9, 5, 6, 7, 8 }, { 5, 9, 8, 7, 6, 0, 4, 3, 2, 1 },
    { 6, 5, 9, 8, 7, 1, 0, 4, 3, 2 }, { 7, 6, 5, 9, 8, 2, 1, 0, 4, 3 },
    { 8, 7, 6, 5, 9, 3, 2, 1, 0, 4 }, { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 },
};

/* p(pos mod 8, digit): the position-dependent permutation. */
static const unsigned char verhoeff_p[8][10] = {
    { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 5, 7, 6, 2, 8, 3, 0, 9, 4 },
    { 5, 8, 0, 3, 7, 9, 6, 1, 4, 2 }, { 8, 9, 1, 6, 0, 4, 3, 5, 2, 7 },
    { 9, 4, 5, 3, 1, 2, 6, 8, 7, 0 }, { 4, 2, 8, 6, 5, 7, 3, 9, 0, 1 },
    { 2, 7, 9, 3, 8, 0, 6, 4, 1, 5 }, { 7, 0, 4, 6, 9, 1, 3, 2, 5, 8 },
};

static const unsigned char verhoeff_inv[10] = { 0, 4, 3, 2, 1, 5, 6, 7, 8, 9 };

int registry_verhoeff_digit(const char *digits, size_t len)
{
    unsigned c = 0;

    for (size_t i = 0; i < len; i++) {
        char ch = digits[len - 1 - i];
        if (ch < '0' || ch > '9')
            return -1;
        c = verhoeff_d[c][verhoeff_p[(i + 1) % 8][ch - '0']];
    }
    return verhoeff_inv[c];
}

/* The patterns rule: returns a description of the first broken rule. */
static const char *pattern_problem(const char *u)
{
    if (u[0] == '0' || u[0] == '1')
        return "starts with 0 or 1";
    for (size_t i = 2; i < REGISTRY_UIN_LEN; i++) {
        int a = u[i - 2], b = u[i - 1], c = u[i];
        if (a == b && b == c)
            return "has three equal digits in a row";
        if ((b == a + 1 && c == b + 1) || (b == a - 1 && c == b - 1))
            return "has three consecutive digits in a row";
    }
    return NULL;
}

/* Random bytes drawn 32 at a time: one system call for a UIN's digits
 * instead of one for each (randombytes_uniform). */
struct digit_source {
    unsigned char b[32];
    size_t used;
};

/* A uniform value below RANGE (2..256): a byte is kept only when below the
 * largest multiple of RANGE, as randombytes_uniform does, so no value is
 * likelier than another. */
static unsigned digit_from(struct digit_source *s, unsigned range)
{
    const unsigned limit = 256 - 256 % range;

    for (;;) {
        unsigned v;
        if (s->used == sizeof s->b) {
            randombytes_buf(s->b, sizeof s->b);
            s->used = 0;
        }
        v = s->b[s->used++];
        if (v < limit)
            return v % range;
    }
}

void registry_uin_generate(char out[REGISTRY_UIN_LEN + 1])
{
    struct digit_source src;

    src.used = sizeof src.b;
    for (;;) {
        int check;
        out[0] = (char)('2' + digit_from(&src, 8));
        for (size_t i = 1; i < REGISTRY_UIN_LEN - 1; i++)
            out[i] = (char)('0' + digit_from(&src, 10));
        check = registry_verhoeff_digit(out, REGISTRY_UIN_LEN - 1);
        out[REGISTRY_UIN_LEN - 1] = (char)('0' + check);
        out[REGISTRY_UIN_LEN] = '\0';
        if (pattern_problem(out) == NULL)
            break;
    }
    sodium_memzero(&src, sizeof src);
}

int registry_uin_check(const char *uin, struct err *err)
{
    const char *problem;

    if (uin == NULL || strlen(uin) != REGISTRY_UIN_LEN)
        return err_set(err, "uin: must be exactly %d digits", REGISTRY_UIN_LEN);
    for (size_t i = 0; i < REGISTRY_UIN_LEN; i++)
        if (uin[i] < '0' || uin[i] > '9')
            return err_set(err, "uin: '%s' must be digits only", uin);
    if (registry_verhoeff_digit(uin, REGISTRY_UIN_LEN - 1) != uin[REGISTRY_UIN_LEN - 1] - '0')
        return err_set(err, "uin: '%s' has a wrong check digit (mistyped?)", uin);
    if ((problem = pattern_problem(uin)) != NULL)
        return err_set(err, "uin: '%s' %s", uin, problem);
    return 0;
}
