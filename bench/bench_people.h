/* civreg benchmarks: distinct generated people for the registry's write path.
 *
 * Person I gets a family name spelt from I itself (base-40 syllables, the
 * least significant first, so neighbours differ at the start of the name),
 * a given name, a mother, a place and a date of birth spread over 96 years:
 * no two people of a run are alike enough for duplicate detection to hold
 * one back (its threshold needs names, date and mother to agree), so the
 * benchmark measures the registration path and not the registrar's queue.
 *
 * People numbered from BENCH_IMPORTED_FIRST (the import phase) are born in
 * 1830-1925, the others in 1930-2025: a pair born more than 366 days apart
 * scores at most 600, under the duplicate threshold (dedup.c's DUP_NEAR),
 * whatever their names, so the phases never hold each other back (their
 * names alone did not keep them apart: person 205 met an imported person
 * at a score of 711). */
#ifndef CIVREG_BENCH_PEOPLE_H
#define CIVREG_BENCH_PEOPLE_H

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const bench_syll_[40] = {
    "ka", "ma", "to", "ri", "ne", "lo", "sa", "mu", "be", "di", "go", "ha", "ji", "ko",
    "la", "mi", "no", "pa", "ru", "se", "ta", "vu", "wa", "ya", "zo", "che", "ki", "ngo",
    "mbe", "tha", "shi", "nda", "ro", "fe", "gu", "dra", "len", "vic", "ber", "son",
};
static const char *const bench_given_[] = {
    "Amina", "Grace", "Wanjiru", "Achieng", "Fatima", "Hélène", "Lucía", "Ingrid", "Zainab",
    "Joseph", "Otieno", "Kamau", "Ibrahim", "Jürgen", "Tomáš", "Pierre", "Yusuf", "David",
    "Mwangi", "Björn", "Mehmet", "Luca", "Seán",
};
static const char *const bench_place_[] = {
    "Kisumu", "Nairobi", "Mombasa", "Nakuru", "Eldoret", "Thika", "Malindi", "Kitale",
    "Garissa", "Kakamega", "Nyeri", "Machakos", "Meru", "Lamu", "Naivasha", "Kericho",
};
#define BENCH_N_(a) (sizeof(a) / sizeof((a)[0]))
#define BENCH_IMPORTED_FIRST 1000000000L

/* Fill OUT with the family name of person I. */
static inline void bench_family(long i, char *out, size_t size)
{
    size_t len = 0;
    unsigned long v = (unsigned long)i;
    int k = 0;

    out[0] = '\0';
    do {
        const char *s = bench_syll_[v % 40];
        size_t l = strlen(s);
        if (len + l + 1 >= size)
            break;
        memcpy(out + len, s, l + 1);
        len += l;
        v /= 40;
        k++;
    } while (v > 0 || k < 3);
    if (out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 32);
}

/* Make REC (a record such as registry_record_example's) person I. */
static inline void bench_person(json_t *rec, long i)
{
    json_t *child = json_object_get(rec, "child"), *birth = json_object_get(rec, "birth"),
           *mother = json_object_get(rec, "mother"), *father = json_object_get(rec, "father"),
           *reg = json_object_get(rec, "register");
    char family[96], mfamily[96], date[16];
    /* days spread over 96 years, far apart for neighbouring I */
    long day = (i * 7919L) % (96L * 336L);
    long year0 = i >= BENCH_IMPORTED_FIRST ? 1830 : 1930;

    bench_family(i, family, sizeof family);
    bench_family(i + 7777777L, mfamily, sizeof mfamily);
    (void)snprintf(date, sizeof date, "%04ld-%02ld-%02ld", year0 + day / 336, 1 + day % 336 / 28,
                   1 + day % 28);
    json_object_set_new(child, "given_names",
                        json_string(bench_given_[(unsigned long)i % BENCH_N_(bench_given_)]));
    json_object_set_new(child, "family_name", json_string(family));
    json_object_set_new(child, "sex", json_string(i % 2 ? "male" : "female"));
    json_object_set_new(birth, "date", json_string(date));
    json_object_set_new(birth, "locality",
                        json_string(bench_place_[(unsigned long)(i / 7) % BENCH_N_(bench_place_)]));
    json_object_set_new(mother, "given_names",
                        json_string(bench_given_[(unsigned long)(i / 3 + 5) % 9]));
    json_object_set_new(mother, "family_name", json_string(mfamily));
    json_object_del(mother, "date_of_birth");
    json_object_del(father, "date_of_birth");
    json_object_set_new(father, "family_name", json_string(family));
    json_object_del(rec, "registration_date");
    json_object_set_new(reg, "page", json_integer(1 + (i / 20) % 99999));
    json_object_set_new(reg, "entry", json_integer(1 + i % 20));
}

#endif
