/* civreg core: Ed25519 batch verification (see ed25519_batch.h).
 *
 * The field is GF(2^255 - 19) in five 51-bit limbs (products in 128 bits);
 * points are in extended twisted Edwards coordinates (X:Y:Z:T), x = X/Z,
 * y = Y/Z, xy = T/Z, on -x^2 + y^2 = 1 + d x^2 y^2 (Hisil, Wong, Carter and
 * Dawson, "Twisted Edwards curves revisited", 2008: formulas add-2008-hwcd-3
 * and dbl-2008-hwcd with a = -1). Scalars mod L are libsodium's
 * (crypto_core_ed25519_scalar_*), SHA-512 too. The multi-scalar product is
 * Straus's: one shared chain of doublings, each point adding its
 * width-5 NAF digits from a table of its odd multiples 1..15.
 *
 * Everything here handles public data only (keys, signatures, messages):
 * variable time is fine, as for any verifier. */
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ed25519_batch.h"

__extension__ typedef unsigned __int128 u128;

/* ---- the field ---------------------------------------------------------- */

typedef struct {
    uint64_t v[5];
} fe;

#define MASK51 ((UINT64_C(1) << 51) - 1)

static void fe_set(fe *h, uint64_t small)
{
    memset(h, 0, sizeof *h);
    h->v[0] = small;
}

/* Limbs below 2^54 in every input, as the formulas below keep them. */
static void fe_add(fe *h, const fe *f, const fe *g)
{
    for (int i = 0; i < 5; i++)
        h->v[i] = f->v[i] + g->v[i];
}

/* Limbs back near 51 bits (the value unchanged mod p). */
static void fe_carry(fe *h)
{
    uint64_t c;

    c = h->v[0] >> 51, h->v[0] &= MASK51, h->v[1] += c;
    c = h->v[1] >> 51, h->v[1] &= MASK51, h->v[2] += c;
    c = h->v[2] >> 51, h->v[2] &= MASK51, h->v[3] += c;
    c = h->v[3] >> 51, h->v[3] &= MASK51, h->v[4] += c;
    c = h->v[4] >> 51, h->v[4] &= MASK51, h->v[0] += 19 * c;
}

/* F - G as F + 4p - G (G's limbs below 2^53), carried. */
static void fe_sub(fe *h, const fe *f, const fe *g)
{
    h->v[0] = f->v[0] + (UINT64_C(4) * ((UINT64_C(1) << 51) - 19)) - g->v[0];
    for (int i = 1; i < 5; i++)
        h->v[i] = f->v[i] + (UINT64_C(4) * MASK51) - g->v[i];
    fe_carry(h);
}

static void fe_neg(fe *h, const fe *f)
{
    fe z;

    fe_set(&z, 0);
    fe_sub(h, &z, f);
}

/* The five 128-bit column sums R reduced into H (limbs near 51 bits). */
static inline __attribute__((always_inline)) void fe_reduce128(fe *h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4)
{
    u128 t;

    r1 += r0 >> 51;
    r2 += r1 >> 51;
    r3 += r2 >> 51;
    r4 += r3 >> 51;
    t = (r4 >> 51) * 19 + ((uint64_t)r0 & MASK51);
    h->v[0] = (uint64_t)t & MASK51;
    h->v[1] = ((uint64_t)r1 & MASK51) + (uint64_t)(t >> 51);
    h->v[2] = (uint64_t)r2 & MASK51;
    h->v[3] = (uint64_t)r3 & MASK51;
    h->v[4] = (uint64_t)r4 & MASK51;
}

static inline void fe_mul(fe *h, const fe *f, const fe *g)
{
    const uint64_t a0 = f->v[0], a1 = f->v[1], a2 = f->v[2], a3 = f->v[3], a4 = f->v[4];
    const uint64_t b0 = g->v[0], b1 = g->v[1], b2 = g->v[2], b3 = g->v[3], b4 = g->v[4];
    const uint64_t b1_19 = 19 * b1, b2_19 = 19 * b2, b3_19 = 19 * b3, b4_19 = 19 * b4;
    u128 r0, r1, r2, r3, r4;

    r0 = (u128)a0 * b0 + (u128)a1 * b4_19 + (u128)a2 * b3_19 + (u128)a3 * b2_19 +
         (u128)a4 * b1_19;
    r1 = (u128)a0 * b1 + (u128)a1 * b0 + (u128)a2 * b4_19 + (u128)a3 * b3_19 +
         (u128)a4 * b2_19;
    r2 = (u128)a0 * b2 + (u128)a1 * b1 + (u128)a2 * b0 + (u128)a3 * b4_19 + (u128)a4 * b3_19;
    r3 = (u128)a0 * b3 + (u128)a1 * b2 + (u128)a2 * b1 + (u128)a3 * b0 + (u128)a4 * b4_19;
    r4 = (u128)a0 * b4 + (u128)a1 * b3 + (u128)a2 * b2 + (u128)a3 * b1 + (u128)a4 * b0;
    fe_reduce128(h, r0, r1, r2, r3, r4);
}

static inline void fe_sq(fe *h, const fe *f)
{
    const uint64_t a0 = f->v[0], a1 = f->v[1], a2 = f->v[2], a3 = f->v[3], a4 = f->v[4];
    const uint64_t d0 = 2 * a0, d1 = 2 * a1, a3_19 = 19 * a3, a4_19 = 19 * a4;
    u128 r0, r1, r2, r3, r4;

    r0 = (u128)a0 * a0 + (u128)d1 * a4_19 + (u128)(2 * a2) * a3_19;
    r1 = (u128)d0 * a1 + (u128)(2 * a2) * a4_19 + (u128)a3 * a3_19;
    r2 = (u128)d0 * a2 + (u128)a1 * a1 + (u128)(2 * a3) * a4_19;
    r3 = (u128)d0 * a3 + (u128)d1 * a2 + (u128)a4 * a4_19;
    r4 = (u128)d0 * a4 + (u128)d1 * a3 + (u128)a2 * a2;
    fe_reduce128(h, r0, r1, r2, r3, r4);
}

static void fe_sqn(fe *h, const fe *f, int n)
{
    fe_sq(h, f);
    while (--n > 0)
        fe_sq(h, h);
}

static uint64_t load64_le(const unsigned char *s)
{
    uint64_t r = 0;

    for (int i = 7; i >= 0; i--)
        r = (r << 8) | s[i];
    return r;
}

static void store64_le(unsigned char *s, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        s[i] = (unsigned char)v;
}

/* The 255 low bits of S (bit 255 ignored). */
static void fe_frombytes(fe *h, const unsigned char s[32])
{
    h->v[0] = load64_le(s) & MASK51;
    h->v[1] = (load64_le(s + 6) >> 3) & MASK51;
    h->v[2] = (load64_le(s + 12) >> 6) & MASK51;
    h->v[3] = (load64_le(s + 19) >> 1) & MASK51;
    h->v[4] = (load64_le(s + 24) >> 12) & MASK51;
}

/* The canonical encoding (the value reduced below p). */
static void fe_tobytes(unsigned char s[32], const fe *f)
{
    fe h = *f;
    uint64_t q;

    fe_carry(&h);
    fe_carry(&h);
    /* h < 2p: q = 1 exactly when h >= p, i.e. when h + 19 reaches 2^255 */
    q = (h.v[0] + 19) >> 51;
    q = (h.v[1] + q) >> 51;
    q = (h.v[2] + q) >> 51;
    q = (h.v[3] + q) >> 51;
    q = (h.v[4] + q) >> 51;
    h.v[0] += 19 * q;
    h.v[1] += h.v[0] >> 51, h.v[0] &= MASK51;
    h.v[2] += h.v[1] >> 51, h.v[1] &= MASK51;
    h.v[3] += h.v[2] >> 51, h.v[2] &= MASK51;
    h.v[4] += h.v[3] >> 51, h.v[3] &= MASK51;
    h.v[4] &= MASK51; /* minus q * 2^255 */
    store64_le(s, h.v[0] | (h.v[1] << 51));
    store64_le(s + 8, (h.v[1] >> 13) | (h.v[2] << 38));
    store64_le(s + 16, (h.v[2] >> 26) | (h.v[3] << 25));
    store64_le(s + 24, (h.v[3] >> 39) | (h.v[4] << 12));
}

static bool fe_iszero(const fe *f)
{
    unsigned char s[32];
    unsigned char acc = 0;

    fe_tobytes(s, f);
    for (int i = 0; i < 32; i++)
        acc |= s[i];
    return acc == 0;
}

static bool fe_equal(const fe *f, const fe *g)
{
    fe d;

    fe_sub(&d, f, g);
    return fe_iszero(&d);
}

static int fe_isodd(const fe *f)
{
    unsigned char s[32];

    fe_tobytes(s, f);
    return s[0] & 1;
}

/* Z^(2^250 - 1) into OUT and Z^11 into Z11 (the common head of the chains
 * below). */
static void fe_pow2_250(fe *out, fe *z11, const fe *z)
{
    fe t0, t1, t2;

    fe_sq(&t0, z);          /* z^2 */
    fe_sqn(&t1, &t0, 2);    /* z^8 */
    fe_mul(&t1, z, &t1);    /* z^9 */
    fe_mul(z11, &t0, &t1);  /* z^11 */
    fe_sq(&t0, z11);        /* z^22 */
    fe_mul(&t0, &t1, &t0);  /* z^(2^5 - 1) */
    fe_sqn(&t1, &t0, 5);
    fe_mul(&t0, &t1, &t0); /* 2^10 - 1 */
    fe_sqn(&t1, &t0, 10);
    fe_mul(&t1, &t1, &t0); /* 2^20 - 1 */
    fe_sqn(&t2, &t1, 20);
    fe_mul(&t1, &t2, &t1); /* 2^40 - 1 */
    fe_sqn(&t1, &t1, 10);
    fe_mul(&t0, &t1, &t0); /* 2^50 - 1 */
    fe_sqn(&t1, &t0, 50);
    fe_mul(&t1, &t1, &t0); /* 2^100 - 1 */
    fe_sqn(&t2, &t1, 100);
    fe_mul(&t1, &t2, &t1); /* 2^200 - 1 */
    fe_sqn(&t1, &t1, 50);
    fe_mul(out, &t1, &t0); /* 2^250 - 1 */
}

/* Z^(2^252 - 3) = Z^((p - 5) / 8). */
static void fe_pow22523(fe *out, const fe *z)
{
    fe t, z11;

    fe_pow2_250(&t, &z11, z);
    fe_sqn(&t, &t, 2);
    fe_mul(out, &t, z);
}

/* 1 / Z = Z^(p - 2) = Z^(2^255 - 21). */
static void fe_invert(fe *out, const fe *z)
{
    fe t, z11;

    fe_pow2_250(&t, &z11, z);
    fe_sqn(&t, &t, 5);
    fe_mul(out, &t, &z11);
}

/* ---- points -------------------------------------------------------------- */

typedef struct {
    fe X, Y, Z, T;
} ge;

/* A point ready to be added: Y + X, Y - X, Z, 2dT. */
typedef struct {
    fe ypx, ymx, z, t2d;
} ge_cached;

static fe k_d, k_d2, k_sqrtm1;
/* B's odd multiples 1, 3, ..., 15, made once (every batch has a B term) */
static ge_cached k_base_mult[8];
static bool k_ready;
static pthread_once_t k_once = PTHREAD_ONCE_INIT;

static void ge_identity(ge *p)
{
    fe_set(&p->X, 0);
    fe_set(&p->Y, 1);
    fe_set(&p->Z, 1);
    fe_set(&p->T, 0);
}

/* 2P (dbl-2008-hwcd, a = -1); T of the result only when WANT_T. */
static void ge_dbl(ge *r, const ge *p, bool want_t)
{
    fe a, b, c, e, f, g, h, s;

    fe_sq(&a, &p->X);
    fe_sq(&b, &p->Y);
    fe_sq(&c, &p->Z);
    fe_add(&c, &c, &c);
    fe_add(&s, &p->X, &p->Y);
    fe_sq(&e, &s);
    fe_add(&s, &a, &b);
    fe_sub(&e, &e, &s); /* (X + Y)^2 - A - B */
    fe_sub(&g, &b, &a); /* aA + B */
    fe_sub(&f, &g, &c); /* G - C */
    fe_neg(&h, &s);     /* aA - B */
    fe_mul(&r->X, &e, &f);
    fe_mul(&r->Y, &g, &h);
    fe_mul(&r->Z, &f, &g);
    if (want_t)
        fe_mul(&r->T, &e, &h);
}

/* P + Q, or P - Q when NEG (add-2008-hwcd-3, a = -1, k = 2d). */
static void ge_add_cached(ge *r, const ge *p, const ge_cached *q, bool neg)
{
    fe a, b, c, d, e, f, g, h, s;

    fe_sub(&s, &p->Y, &p->X);
    fe_mul(&a, &s, neg ? &q->ypx : &q->ymx);
    fe_add(&s, &p->Y, &p->X);
    fe_mul(&b, &s, neg ? &q->ymx : &q->ypx);
    fe_mul(&c, &p->T, &q->t2d);
    fe_mul(&d, &p->Z, &q->z);
    fe_add(&d, &d, &d);
    fe_sub(&e, &b, &a);
    if (neg) {
        fe_add(&f, &d, &c);
        fe_sub(&g, &d, &c);
    } else {
        fe_sub(&f, &d, &c);
        fe_add(&g, &d, &c);
    }
    fe_add(&h, &b, &a);
    fe_mul(&r->X, &e, &f);
    fe_mul(&r->Y, &g, &h);
    fe_mul(&r->T, &e, &h);
    fe_mul(&r->Z, &f, &g);
}

static void ge_to_cached(ge_cached *c, const ge *p)
{
    fe_add(&c->ypx, &p->Y, &p->X);
    fe_sub(&c->ymx, &p->Y, &p->X);
    c->z = p->Z;
    fe_mul(&c->t2d, &p->T, &k_d2);
}

static bool ge_is_identity(const ge *p)
{
    return fe_iszero(&p->X) && fe_equal(&p->Y, &p->Z);
}

/* Whether [8]P is the identity: P of small order. */
static bool ge_small_order(const ge *p)
{
    ge q;

    ge_dbl(&q, p, false);
    ge_dbl(&q, &q, false);
    ge_dbl(&q, &q, false);
    return ge_is_identity(&q);
}

/* The point S encodes (RFC 8032 section 5.1.3), refusing what libsodium's
 * verification refuses: a y coordinate not below p, x = 0 with its sign bit
 * set, and no point at all. */
static int ge_frombytes(ge *p, const unsigned char s[32])
{
    unsigned char back[32];
    const int sign = s[31] >> 7;
    fe u, v, v3, vx2, t, one;

    fe_frombytes(&p->Y, s);
    fe_tobytes(back, &p->Y);
    back[31] |= (unsigned char)(sign << 7);
    if (memcmp(back, s, 32) != 0)
        return -1; /* y >= p */
    fe_set(&one, 1);
    fe_sq(&u, &p->Y);
    fe_mul(&v, &u, &k_d);
    fe_sub(&u, &u, &one); /* y^2 - 1 */
    fe_add(&v, &v, &one); /* d y^2 + 1 */
    fe_carry(&v);
    fe_sq(&v3, &v);
    fe_mul(&v3, &v3, &v); /* v^3 */
    fe_sq(&t, &v3);
    fe_mul(&t, &t, &v);
    fe_mul(&t, &t, &u); /* u v^7 */
    fe_pow22523(&t, &t);
    fe_mul(&t, &t, &v3);
    fe_mul(&p->X, &t, &u); /* u v^3 (u v^7)^((p - 5) / 8) */
    fe_sq(&vx2, &p->X);
    fe_mul(&vx2, &vx2, &v);
    if (!fe_equal(&vx2, &u)) {
        fe_neg(&t, &u);
        if (!fe_equal(&vx2, &t))
            return -1; /* not a square: no point */
        fe_mul(&p->X, &p->X, &k_sqrtm1);
    }
    if (fe_iszero(&p->X) && sign)
        return -1;
    if (fe_isodd(&p->X) != sign)
        fe_neg(&p->X, &p->X);
    fe_set(&p->Z, 1);
    fe_mul(&p->T, &p->X, &p->Y);
    return 0;
}

/* MULT: P's odd multiples P, 3P, ..., 15P. */
static void odd_multiples(ge_cached mult[8], const ge *p)
{
    ge acc = *p, p2;
    ge_cached c2;

    ge_dbl(&p2, p, true);
    ge_to_cached(&c2, &p2);
    ge_to_cached(&mult[0], p);
    for (int j = 1; j < 8; j++) {
        ge_add_cached(&acc, &acc, &c2, false);
        ge_to_cached(&mult[j], &acc);
    }
}

static void constants_init(void)
{
    static const unsigned char base_enc[32] = {
        0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
        0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
        0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
    };
    fe t, two;
    ge base;

    if (sodium_init() < 0)
        return;
    /* d = -121665 / 121666 */
    fe_set(&t, 121666);
    fe_invert(&t, &t);
    fe_set(&k_d, 121665);
    fe_mul(&k_d, &k_d, &t);
    fe_neg(&k_d, &k_d);
    fe_add(&k_d2, &k_d, &k_d);
    fe_carry(&k_d2);
    /* sqrt(-1) = 2^((p - 1) / 4) = (2^((p - 5) / 8))^2 * 2: 2 is not a
     * square mod p, so this squares to 2^((p - 1) / 2) = -1 */
    fe_set(&two, 2);
    fe_pow22523(&t, &two);
    fe_sq(&t, &t);
    fe_mul(&k_sqrtm1, &t, &two);
    /* B: y = 4/5, x even */
    k_ready = ge_frombytes(&base, base_enc) == 0;
    if (k_ready)
        odd_multiples(k_base_mult, &base);
}

/* ---- scalars -------------------------------------------------------------- */

/* Whether S (32 bytes, little-endian) is below L = 2^252 + 2774...8493. */
static bool sc_canonical(const unsigned char s[32])
{
    static const unsigned char L[32] = {
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
        0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
        0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10,
    };

    for (int i = 31; i >= 0; i--)
        if (s[i] != L[i])
            return s[i] < L[i];
    return false;
}

/* Nonzero digits a scalar has at most in width-5 NAF (they are 5 bits apart
 * at least; scalars here are below 2^253). */
#define NAF_MAX 64

/* S (below 2^253) in width-5 non-adjacent form: S = sum DIG[j] 2^POS[j],
 * each digit odd in [-15, 15], positions rising and 5 apart at least.
 * Returns how many. */
static int sc_wnaf(unsigned short pos[NAF_MAX], signed char dig[NAF_MAX],
                   const unsigned char s[32])
{
    unsigned char bit[272] = { 0 };
    int n = 0;

    for (int i = 0; i < 256; i++)
        bit[i] = (s[i >> 3] >> (i & 7)) & 1;
    for (int i = 0; i < 260 && n < NAF_MAX;) {
        int v;
        if (!bit[i]) {
            i++;
            continue;
        }
        v = bit[i] | bit[i + 1] << 1 | bit[i + 2] << 2 | bit[i + 3] << 3 | bit[i + 4] << 4;
        memset(bit + i, 0, 5);
        if (v > 15) { /* v - 32, and 32 carried into bit i + 5 */
            int k = i + 5;
            v -= 32;
            while (bit[k])
                bit[k++] = 0;
            bit[k] = 1;
        }
        pos[n] = (unsigned short)i;
        dig[n++] = (signed char)v;
        i += 5;
    }
    return n;
}

/* ---- the batch ------------------------------------------------------------ */

/* One point of the product: its odd multiples 1, 3, ..., 15 and its
 * scalar's digits. */
struct term {
    ge_cached mult[8];
    unsigned short pos[NAF_MAX];
    signed char dig[NAF_MAX];
    int n;
};

/* ED_BATCH_MAX signatures' R, one key each at most, and B. */
#define TERMS_MAX (2 * ED_BATCH_MAX + 1)

/* A key of the batch: its encoding, the sum of z_i k_i over its
 * signatures, and its term. */
struct key_sum {
    const unsigned char *enc;
    unsigned char scalar[32];
    size_t term;
};

/* What a batch of ED_BATCH_MAX needs (about 200 KiB: on the heap). */
struct batch_state {
    struct term t[TERMS_MAX];
    struct key_sum keys[ED_BATCH_MAX];
};

static void term_digits(struct term *t, const unsigned char scalar[32])
{
    t->n = sc_wnaf(t->pos, t->dig, scalar);
}

/* Whether [8] * sum of the terms' points times their scalars is the
 * identity. One chain of doublings from the highest digit down; the terms
 * wait in lists by the position of their next digit, so each digit costs
 * one addition and nothing else. */
static bool product_is_small(const struct term *t, size_t n)
{
    int head[272], next[TERMS_MAX], cur[TERMS_MAX], top = -1;
    ge acc;

    for (int i = 0; i < 272; i++)
        head[i] = -1;
    for (size_t j = 0; j < n; j++) {
        cur[j] = t[j].n - 1;
        if (cur[j] < 0)
            continue;
        next[j] = head[t[j].pos[cur[j]]];
        head[t[j].pos[cur[j]]] = (int)j;
        if (t[j].pos[cur[j]] > top)
            top = t[j].pos[cur[j]];
    }
    ge_identity(&acc);
    for (int i = top; i >= 0; i--) {
        if (i != top)
            ge_dbl(&acc, &acc, head[i] >= 0);
        for (int j = head[i], nx; j >= 0; j = nx) {
            const int d = t[j].dig[cur[j]];
            nx = next[j];
            if (d > 0)
                ge_add_cached(&acc, &acc, &t[j].mult[(d - 1) / 2], false);
            else
                ge_add_cached(&acc, &acc, &t[j].mult[(-d - 1) / 2], true);
            if (--cur[j] >= 0) {
                next[j] = head[t[j].pos[cur[j]]];
                head[t[j].pos[cur[j]]] = j;
            }
        }
    }
    return ge_small_order(&acc);
}

/* The batch equation over IT[0..N) with random weights (WEIGHTS) or all
 * weights 1 (N == 1). 1: it holds; 0: it does not; -1: an item is
 * malformed (an encoding refused), so the batch says nothing. */
static int batch_check(struct term *terms, struct key_sum *keys, const struct ed_batch_item *it,
                       size_t n, bool weights)
{
    unsigned char z[ED_BATCH_MAX][16];
    unsigned char sum_s[32] = { 0 }, zs[32], zk[32], zi[32], k[32], h[64];
    size_t nkeys = 0, nt = 0;
    ge p;

    if (weights)
        randombytes_buf(z, n * sizeof z[0]);
    for (size_t i = 0; i < n; i++) {
        const unsigned char *sig = it[i].sig, *pk = it[i].pk;
        crypto_hash_sha512_state hs;
        size_t key;

        if (!weights) {
            memset(z[i], 0, sizeof z[i]);
            z[i][0] = 1;
        }
        memset(zi, 0, sizeof zi);
        memcpy(zi, z[i], sizeof z[i]);
        if (!sc_canonical(sig + 32) || ge_frombytes(&p, sig) != 0 || ge_small_order(&p))
            return -1;
        odd_multiples(terms[nt].mult, &p);
        term_digits(&terms[nt++], zi);
        for (key = 0; key < nkeys; key++)
            if (keys[key].enc == pk || memcmp(keys[key].enc, pk, 32) == 0)
                break;
        if (key == nkeys) {
            if (ge_frombytes(&p, pk) != 0 || ge_small_order(&p))
                return -1;
            keys[key].enc = pk;
            memset(keys[key].scalar, 0, 32);
            keys[key].term = nt++;
            /* its multiples now, its digits once its scalar is summed */
            odd_multiples(terms[keys[key].term].mult, &p);
            nkeys++;
        }
        crypto_hash_sha512_init(&hs);
        crypto_hash_sha512_update(&hs, sig, 32);
        crypto_hash_sha512_update(&hs, pk, 32);
        crypto_hash_sha512_update(&hs, it[i].msg, it[i].len);
        crypto_hash_sha512_final(&hs, h);
        crypto_core_ed25519_scalar_reduce(k, h);
        crypto_core_ed25519_scalar_mul(zk, zi, k);
        crypto_core_ed25519_scalar_add(keys[key].scalar, keys[key].scalar, zk);
        crypto_core_ed25519_scalar_mul(zs, zi, sig + 32);
        crypto_core_ed25519_scalar_add(sum_s, sum_s, zs);
    }
    for (size_t key = 0; key < nkeys; key++)
        term_digits(&terms[keys[key].term], keys[key].scalar);
    crypto_core_ed25519_scalar_negate(zs, sum_s);
    memcpy(terms[nt].mult, k_base_mult, sizeof k_base_mult);
    term_digits(&terms[nt++], zs);
    return product_is_small(terms, nt) ? 1 : 0;
}

bool ed25519_verify_one(const unsigned char *pk, const unsigned char *sig, const void *msg,
                        size_t len)
{
    /* a batch of one: its R, its key and B (about 4 KiB) */
    struct term terms[3];
    struct key_sum key;
    const struct ed_batch_item it = { pk, sig, msg, len };

    if (pk == NULL || sig == NULL || (msg == NULL && len > 0))
        return false;
    /* What libsodium's exact check accepts the cofactored one accepts too
     * (its refusals of encodings are the same; fuzz_ed25519 holds it to
     * that): its faster check decides every valid signature, this one
     * only what it refuses. */
    if (crypto_sign_verify_detached(sig, msg, len, pk) == 0)
        return true;
    pthread_once(&k_once, constants_init);
    return k_ready && batch_check(terms, &key, &it, 1, false) == 1;
}

bool ed25519_batch_verify(const struct ed_batch_item *items, size_t n, bool *ok)
{
    struct batch_state *st;
    bool all = true;

    pthread_once(&k_once, constants_init);
    st = n > 1 ? malloc(sizeof *st) : NULL; /* none: every item alone */
    for (size_t at = 0; at < n; at += ED_BATCH_MAX) {
        const size_t m = n - at < ED_BATCH_MAX ? n - at : ED_BATCH_MAX;
        bool usable = k_ready && st != NULL && m > 1;

        for (size_t i = at; usable && i < at + m; i++)
            usable = items[i].pk && items[i].sig && (items[i].msg || items[i].len == 0);
        if (usable && batch_check(st->t, st->keys, items + at, m, true) == 1) {
            for (size_t i = at; ok && i < at + m; i++)
                ok[i] = true;
            continue;
        }
        for (size_t i = at; i < at + m; i++) {
            bool v = ed25519_verify_one(items[i].pk, items[i].sig, items[i].msg, items[i].len);
            if (ok)
                ok[i] = v;
            all = all && v;
        }
    }
    free(st);
    return all;
}
