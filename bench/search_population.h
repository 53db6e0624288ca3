/* civreg: a synthetic population for the search-quality test
 * (tests/unit/test_search.c) and bench/search.c.
 *
 * People get given and family names from pools in several scripts and
 * spellings (Latin with accents, Cyrillic, East African, English), or family
 * names built from syllables (so that a large population does not share a
 * few hundred surnames), a date of birth from 1930 to 2025, a sex, a mother
 * and a place. Queries are made the way a clerk mistypes or respells a name
 * found on paper: typos, transliterations, swapped name order, missing
 * accents, partial dates. Deterministic (xorshift64*). Header-only so both
 * the test and the benchmark build it. */
#ifndef CIVREG_SEARCH_POPULATION_H
#define CIVREG_SEARCH_POPULATION_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

struct pop_rng {
    uint64_t s;
};

static inline uint64_t pop_next(struct pop_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}

static inline unsigned pop_below(struct pop_rng *r, unsigned n)
{
    return (unsigned)(pop_next(r) % n);
}

/* A name and the way it is commonly written in Latin letters by someone
 * who does not follow Doc 9303 (NULL: the accent-stripped form). */
struct pop_name {
    const char *name, *latin;
};

static const struct pop_name pop_given_f[] = {
    { "Анна", "Anna" }, { "Мария", "Mariya" }, { "Елена", "Yelena" }, { "Ольга", "Olga" },
    { "Татьяна", "Tatyana" }, { "Наталья", "Natalya" }, { "Юлия", "Yulia" },
    { "Екатерина", "Ekaterina" }, { "Светлана", "Svetlana" }, { "Ксения", "Kseniya" },
    { "Amélie", NULL }, { "Hélène", NULL }, { "Chloé", NULL }, { "Zoé", NULL },
    { "Bérénice", NULL }, { "Gaëlle", NULL }, { "Renée", NULL }, { "María", NULL },
    { "Lucía", NULL }, { "Inés", NULL }, { "Małgorzata", "Malgorzata" },
    { "Agnieszka", NULL }, { "Ayşe", "Ayse" }, { "Gül", "Gul" }, { "Emine", NULL },
    { "Tereza", NULL }, { "Lucie", NULL }, { "Jüte", "Juete" }, { "Wanjiru", NULL },
    { "Achieng", NULL }, { "Akinyi", NULL }, { "Njeri", NULL }, { "Wambui", NULL },
    { "Grace", NULL }, { "Mary", NULL }, { "Elizabeth", NULL }, { "Sarah", NULL },
    { "Margaret", NULL }, { "Susan", NULL }, { "Jennifer", NULL }, { "Linda", NULL },
    { "Patricia", NULL }, { "Barbara", NULL }, { "Jessica", NULL }, { "Nancy", NULL },
    { "Fatima", NULL }, { "Aisha", NULL }, { "Zainab", NULL }, { "Amina", NULL },
    { "Halima", NULL }, { "Sophie", NULL }, { "Charlotte", NULL }, { "Emma", NULL },
    { "Olivia", NULL }, { "Isabella", NULL }, { "Mia", NULL }, { "Ingrid", NULL },
    { "Siobhán", NULL }, { "Åsa", NULL }, { "Björg", NULL },
};

static const struct pop_name pop_given_m[] = {
    { "Александр", "Alexander" }, { "Дмитрий", "Dmitry" }, { "Максим", "Maxim" },
    { "Иван", "Ivan" }, { "Михаил", "Mikhail" }, { "Андрей", "Andrey" },
    { "Алексей", "Alexey" }, { "Николай", "Nikolay" }, { "Юрий", "Yuri" },
    { "Евгений", "Yevgeny" }, { "François", NULL }, { "Jérôme", NULL }, { "Noël", NULL },
    { "José", NULL }, { "Jesús", NULL }, { "Ramón", NULL }, { "Łukasz", "Lukasz" },
    { "Krzysztof", NULL }, { "Jiří", NULL }, { "Tomáš", NULL }, { "Mehmet", NULL },
    { "Mustafa", NULL }, { "Ömer", "Oemer" }, { "Jürgen", "Juergen" }, { "Günther", "Guenther" },
    { "Hans", NULL }, { "Klaus", NULL }, { "Otieno", NULL }, { "Kamau", NULL },
    { "Omondi", NULL }, { "Ochieng", NULL }, { "Mwangi", NULL }, { "Kipchoge", NULL },
    { "Joseph", NULL }, { "John", NULL }, { "James", NULL }, { "Robert", NULL },
    { "Michael", NULL }, { "William", NULL }, { "David", NULL }, { "Richard", NULL },
    { "Thomas", NULL }, { "Charles", NULL }, { "Daniel", NULL }, { "Matthew", NULL },
    { "Mohammed", NULL }, { "Ahmed", NULL }, { "Ibrahim", NULL }, { "Yusuf", NULL },
    { "Hassan", NULL }, { "Pierre", NULL }, { "Luca", NULL }, { "Marco", NULL },
    { "Søren", "Soeren" }, { "Björn", "Bjoern" }, { "Seán", NULL },
};

static const struct pop_name pop_family[] = {
    { "Иванов", "Ivanov" }, { "Смирнов", "Smirnov" }, { "Кузнецов", "Kuznetsov" },
    { "Попов", "Popov" }, { "Соколов", "Sokolov" }, { "Лебедев", "Lebedev" },
    { "Козлов", "Kozlov" }, { "Новиков", "Novikov" }, { "Морозов", "Morozov" },
    { "Волков", "Volkov" }, { "Соловьёв", "Solovyov" }, { "Васильев", "Vasilyev" },
    { "Зайцев", "Zaitsev" }, { "Семёнов", "Semyonov" }, { "Фёдоров", "Fyodorov" },
    { "Михайлов", "Mikhailov" }, { "Беляев", "Belyaev" }, { "Киселёв", "Kiselyov" },
    { "Кудрявцев", "Kudryavtsev" }, { "Яковлев", "Yakovlev" }, { "Щербаков", "Shcherbakov" },
    { "Жуков", "Zhukov" }, { "Чернов", "Chernov" }, { "Цветков", "Tsvetkov" },
    { "Мюллер", "Muller" }, { "Шмидт", "Shmidt" }, { "Müller", "Mueller" },
    { "Schäfer", "Schaefer" }, { "Schröder", "Schroeder" }, { "Köhler", "Koehler" },
    { "Jäger", "Jaeger" }, { "Weiß", "Weiss" }, { "Lefèvre", NULL }, { "Núñez", NULL },
    { "Muñoz", NULL }, { "Ibáñez", NULL }, { "Gómez", NULL }, { "Pérez", NULL },
    { "Sánchez", NULL }, { "Martínez", NULL }, { "Rodríguez", NULL }, { "Fernández", NULL },
    { "González", NULL }, { "Hernández", NULL }, { "Jiménez", NULL }, { "Álvarez", NULL },
    { "Wójcik", NULL }, { "Zieliński", NULL }, { "Wiśniewski", NULL }, { "Dąbrowski", NULL },
    { "Woźniak", NULL }, { "Dvořák", NULL }, { "Novák", NULL }, { "Černý", NULL },
    { "Procházka", NULL }, { "Kučera", NULL }, { "Yılmaz", "Yilmaz" }, { "Şahin", "Sahin" },
    { "Çelik", "Celik" }, { "Öztürk", "Ozturk" }, { "Aydın", "Aydin" }, { "Doğan", "Dogan" },
    { "Otieno", NULL }, { "Kamau", NULL }, { "Wanjiru", NULL }, { "Mwangi", NULL },
    { "Njoroge", NULL }, { "Kariuki", NULL }, { "Omondi", NULL }, { "Mutua", NULL },
    { "Smith", NULL }, { "Johnson", NULL }, { "Williams", NULL }, { "Brown", NULL },
    { "Garcia", NULL }, { "Miller", NULL }, { "Davis", NULL }, { "Wilson", NULL },
    { "Anderson", NULL }, { "Taylor", NULL }, { "Thompson", NULL }, { "Robinson", NULL },
    { "O'Brien", "OBrien" }, { "Nguyễn", "Nguyen" }, { "Traoré", NULL }, { "Diallo", NULL },
};

static const char *const pop_places[] = {
    "Kisumu", "Nairobi", "Mombasa", "Nakuru", "Eldoret", "Thika", "Malindi", "Kitale",
    "Garissa", "Kakamega", "Nyeri", "Machakos", "Meru", "Lamu", "Naivasha", "Kericho",
    "Bungoma", "Busia", "Homa Bay", "Migori", "Voi", "Embu", "Isiolo", "Marsabit",
};

static const char *const pop_syll[] = {
    "ka", "ma", "to", "ri", "ne", "lo", "sa", "mu", "be", "di", "go", "ha", "ji", "ko",
    "la", "mi", "no", "pa", "ru", "se", "ta", "vu", "wa", "ya", "zo", "ch", "ki", "ngo",
    "mbe", "tha", "shi", "nda", "ro", "fe", "gu", "dra", "len", "vic", "ber", "son",
};

#define POP_N(a) (sizeof(a) / sizeof((a)[0]))

struct pop_person {
    char given[96], family[96], given_alt[96], family_alt[96];
    char mother_given[64], mother_family[96];
    char sex[12], place[32];
    int y, m, d;
};

static inline void pop_cap(char *s)
{
    if (s[0] >= 'a' && s[0] <= 'z')
        s[0] = (char)(s[0] - 32);
}

/* A family name from 2-4 syllables (its own Latin form). */
static inline void pop_syllable_name(struct pop_rng *r, char *out, size_t size)
{
    unsigned n = 2 + pop_below(r, 3);
    size_t len = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < n; i++) {
        const char *s = pop_syll[pop_below(r, POP_N(pop_syll))];
        size_t l = strlen(s);
        if (len + l + 1 >= size)
            break;
        memcpy(out + len, s, l + 1);
        len += l;
    }
    pop_cap(out);
}

static inline void pop_set(char *dst, size_t size, const struct pop_name *n, bool alt)
{
    (void)snprintf(dst, size, "%s", alt && n->latin ? n->latin : n->name);
}

static inline void pop_person_make(struct pop_rng *r, struct pop_person *p)
{
    bool female = pop_below(r, 2) == 0;
    const struct pop_name *g = female ? &pop_given_f[pop_below(r, POP_N(pop_given_f))]
                                      : &pop_given_m[pop_below(r, POP_N(pop_given_m))];
    const struct pop_name *mg = &pop_given_f[pop_below(r, POP_N(pop_given_f))];

    memset(p, 0, sizeof *p);
    pop_set(p->given, sizeof p->given, g, false);
    pop_set(p->given_alt, sizeof p->given_alt, g, true);
    if (pop_below(r, 10) < 3) { /* a second given name */
        const struct pop_name *g2 = female ? &pop_given_f[pop_below(r, POP_N(pop_given_f))]
                                           : &pop_given_m[pop_below(r, POP_N(pop_given_m))];
        size_t l = strlen(p->given), la = strlen(p->given_alt);
        (void)snprintf(p->given + l, sizeof p->given - l, " %s", g2->name);
        (void)snprintf(p->given_alt + la, sizeof p->given_alt - la, " %s",
                       g2->latin ? g2->latin : g2->name);
    }
    if (pop_below(r, 2) == 0) {
        const struct pop_name *f = &pop_family[pop_below(r, POP_N(pop_family))];
        pop_set(p->family, sizeof p->family, f, false);
        pop_set(p->family_alt, sizeof p->family_alt, f, true);
    } else {
        pop_syllable_name(r, p->family, sizeof p->family);
        memcpy(p->family_alt, p->family, sizeof p->family);
    }
    pop_set(p->mother_given, sizeof p->mother_given, mg, false);
    if (pop_below(r, 4) == 0)
        pop_syllable_name(r, p->mother_family, sizeof p->mother_family);
    else
        memcpy(p->mother_family, p->family, sizeof p->family);
    (void)snprintf(p->sex, sizeof p->sex, "%s", female ? "female" : "male");
    (void)snprintf(p->place, sizeof p->place, "%s", pop_places[pop_below(r, POP_N(pop_places))]);
    p->y = 1930 + (int)pop_below(r, 96);
    p->m = 1 + (int)pop_below(r, 12);
    p->d = 1 + (int)pop_below(r, 28);
}

/* The record JSON (only the fields the index reads). New reference. */
static inline json_t *pop_record(const struct pop_person *p)
{
    char date[16];
    (void)snprintf(date, sizeof date, "%04d-%02d-%02d", p->y, p->m, p->d);
    return json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s}}", "child",
                     "given_names", p->given, "family_name", p->family, "sex", p->sex, "birth",
                     "date", date, "place_type", "facility", "locality", p->place, "district",
                     p->place, "mother", "given_names", p->mother_given, "family_name",
                     p->mother_family);
}

/* S without accents (NFD, combining marks dropped), into OUT. */
static inline void pop_strip(const char *s, char *out, size_t size)
{
    char *d = NULL;
    size_t dl = 0, o = 0;
    struct err e = ERR_INIT;
    if (utf8_normalize(s, strlen(s), UTF8_NFD, &d, &dl, &e) != 0) {
        (void)snprintf(out, size, "%s", s);
        return;
    }
    for (size_t i = 0; i < dl && o + 1 < size;) {
        uint32_t cp;
        int n = utf8_decode(d + i, dl - i, &cp);
        if (n < 0)
            break;
        if (!(cp >= 0x300 && cp <= 0x36f) && o + (size_t)n < size) {
            memcpy(out + o, d + i, (size_t)n);
            o += (size_t)n;
        }
        i += (size_t)n;
    }
    out[o] = '\0';
    free(d);
}

/* One typo in ASCII letters of S (substitution, deletion, insertion or
 * transposition), in place. Leaves non-ASCII bytes alone. */
static inline void pop_typo(struct pop_rng *r, char *s, size_t size)
{
    size_t n = strlen(s), i;
    unsigned kind = pop_below(r, 4);
    char c = (char)('a' + pop_below(r, 26));
    if (n < 3)
        return;
    i = 1 + pop_below(r, (unsigned)(n - 1)); /* the first letter is rarely wrong */
    if ((unsigned char)s[i] >= 0x80 || s[i] == ' ' || (i > 0 && (unsigned char)s[i - 1] >= 0x80))
        return;
    switch (kind) {
    case 0:
        s[i] = c;
        break;
    case 1:
        memmove(s + i, s + i + 1, n - i);
        break;
    case 2:
        if (n + 2 < size) {
            memmove(s + i + 1, s + i, n - i + 1);
            s[i] = c;
        }
        break;
    default:
        if (i + 1 < n && (unsigned char)s[i + 1] < 0x80 && s[i + 1] != ' ') {
            char t = s[i];
            s[i] = s[i + 1];
            s[i + 1] = t;
        }
        break;
    }
}

enum pop_variant {
    POP_TYPO,
    POP_TRANSLIT,
    POP_SWAPPED,
    POP_NO_ACCENTS,
    POP_PARTIAL_DATE,
    POP_VARIANTS
};

static const char *const pop_variant_names[] = { "typo", "transliteration", "swapped names",
                                                 "missing accents", "partial date" };

/* A query for P as a clerk would type it. */
static inline void pop_query(struct pop_rng *r, const struct pop_person *p, enum pop_variant v,
                             char *out, size_t size)
{
    char given[128], family[128], date[32];
    bool dotted = pop_below(r, 3) == 0;

    (void)snprintf(given, sizeof given, "%s", p->given);
    (void)snprintf(family, sizeof family, "%s", p->family);
    if (dotted)
        (void)snprintf(date, sizeof date, "%02d.%02d.%04d", p->d, p->m, p->y);
    else
        (void)snprintf(date, sizeof date, "%04d-%02d-%02d", p->y, p->m, p->d);
    switch (v) {
    case POP_TYPO:
        pop_strip(p->given_alt, given, sizeof given);
        pop_strip(p->family_alt, family, sizeof family);
        if (pop_below(r, 3) == 0)
            pop_typo(r, given, sizeof given);
        else
            pop_typo(r, family, sizeof family);
        break;
    case POP_TRANSLIT:
        pop_strip(p->given_alt, given, sizeof given);
        pop_strip(p->family_alt, family, sizeof family);
        break;
    case POP_SWAPPED:
        (void)snprintf(out, size, "%s %s %s", family, given, date);
        return;
    case POP_NO_ACCENTS:
        pop_strip(p->given, given, sizeof given);
        pop_strip(p->family, family, sizeof family);
        break;
    case POP_PARTIAL_DATE:
        if (pop_below(r, 2) == 0)
            (void)snprintf(date, sizeof date, "%04d", p->y);
        else
            (void)snprintf(date, sizeof date, "%04d-%02d", p->y, p->m);
        break;
    default:
        break;
    }
    (void)snprintf(out, size, "%s %s %s", given, family, date);
}

/* Whether ROWS (search results or duplicate candidates: objects with a
 * "record_id") name the record ID. */
static inline int pop_rows_have(const json_t *rows, const char *id)
{
    const json_t *row;
    size_t i;
    json_array_foreach(rows, i, row)
        if (strcmp(json_string_value(json_object_get(row, "record_id")), id) == 0)
            return 1;
    return 0;
}

#endif
