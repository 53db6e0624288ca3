/* Unit tests for issuance/ MRZ: check digits, code tables, transliteration,
 * truncation, the Doc 9303 specimens, the strict parser's located errors,
 * a 10,000-record generate -> parse property test, and detection of every
 * single-character substitution the check digits guarantee to catch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "core/translit.h"
#include "issuance/icao/countries.h"
#include "issuance/icao/mrz.h"
#include "issuance/icao/mrz_int.h"
#include "mrz_random.h"
#include "support/cmocka_main.h"
#include "support/support.h"

/* A fixed "today" so the tests do not depend on the clock. */
static const struct mrz_date today = { 2026, 6, 15 };

static void test_check_digit(void **state)
{
    (void)state;
    /* Doc 9303-3 4.9 worked example, and the specimens' fields. */
    assert_int_equal(mrz_check_digit("520727", 6), '3');
    assert_int_equal(mrz_check_digit("L898902C3", 9), '6');
    assert_int_equal(mrz_check_digit("740812", 6), '2');
    assert_int_equal(mrz_check_digit("120415", 6), '9');
    assert_int_equal(mrz_check_digit("ZE184226B<<<<<", 14), '1');
    assert_int_equal(mrz_check_digit("D23145890734", 12), '9');
    assert_int_equal(mrz_check_digit("<<<", 3), '0');
    assert_int_equal(mrz_check_digit("", 0), '0');
    assert_int_equal(mrz_check_digit("ab", 2), -1);
    assert_int_equal(mrz_check_digit("A B", 3), -1);
}

static void test_tables(void **state)
{
    static const char *const icao[] = { "D", "GBD", "GBN", "GBO", "GBP", "GBS", "UNO", "UNA", "UNK", "XXA",
                                        "XXB", "XXC", "XXX", "XOM", "XPO", "XCC", "XES", "XDC", "EUE", "UTO",
                                        "XBA", "XIM", "XCE", "XEC", "XMP", "XCO" };
    (void)state;
    for (size_t i = 1; i < mrz_country_count(); i++)
        assert_true(strcmp(mrz_country_at(i - 1)->code, mrz_country_at(i)->code) < 0);
    assert_null(mrz_country_at(mrz_country_count()));
    for (size_t i = 0; i < sizeof icao / sizeof icao[0]; i++)
        assert_non_null(mrz_country_find(icao[i]));
    assert_int_equal(mrz_country_find("UTO")->kind, MRZ_CODE_SPECIMEN);
    assert_int_equal(mrz_country_find("GBD")->kind, MRZ_CODE_ICAO);
    assert_int_equal(mrz_country_find("SWE")->kind, MRZ_CODE_ISO);
    assert_non_null(mrz_country_find("ZWE"));
    assert_non_null(mrz_country_find("DEU")); /* ISO's DEU is accepted beside ICAO's D */
    assert_null(mrz_country_find("ABC"));
    assert_null(mrz_country_find("GB"));
    assert_null(mrz_country_find(""));
    assert_true(translit_table_sorted());
}

static void translit_is(const char *in, const char *want, const char *warning)
{
    struct buf out = BUF_INIT(1024), w = BUF_INIT(4096);
    struct err err = ERR_INIT;
    assert_int_equal(translit_mrz(in, strlen(in), &out, &w, &err), 0);
    if (strcmp(buf_str(&out), want) != 0)
        fail_msg("'%s' -> '%s', want '%s'", in, buf_str(&out), want);
    if (warning == NULL)
        assert_string_equal(buf_str(&w), "");
    else if (strstr(buf_str(&w), warning) == NULL)
        fail_msg("'%s': warnings '%s' lack '%s'", in, buf_str(&w), warning);
    buf_release(&out);
    buf_release(&w);
}

static void test_transliterate(void **state)
{
    (void)state;
    /* Doc 9303-3 section 6: recommended multi-letter Latin forms. */
    translit_is("Ä", "AE", "transliterated 'Ä' (U+00C4) as AE");
    translit_is("Åsa", "AASA", "as AA");
    translit_is("Æbelø", "AEBELOE", "as AE");
    translit_is("Øster", "OESTER", "as OE");
    translit_is("Ǿle", "OELE", "as OE"); /* Ø + acute: the base letter keeps its table form */
    translit_is("Schröder", "SCHROEDER", "as OE");
    translit_is("Müller", "MUELLER", "as UE");
    translit_is("Strauß", "STRAUSS", "as SS");
    translit_is("Þór", "THOR", "as TH");
    translit_is("Ĳsselmeer", "IJSSELMEER", "as IJ");
    translit_is("Guðrún", "GUDRUN", "as D");
    translit_is("Œuvre", "OEUVRE", "as OE");
    /* Other accented letters: base letter through decomposition. */
    translit_is("José Núñez", "JOSE<NUNEZ", "as E");
    translit_is("Çağlar Şahin", "CAGLAR<SAHIN", "as C");
    translit_is("Dvořák", "DVORAK", "as R");
    translit_is("Łukasz", "LUKASZ", "as L");
    translit_is("Ţepeş", "TEPES", "as T");
    /* Combining marks typed separately compose first (NFC), then map. */
    translit_is("A\xCC\x88rger", "AERGER", "as AE");
    /* Cyrillic (Part 3 table). */
    translit_is("Жуков", "ZHUKOV", "as ZH");
    translit_is("Хрущёв", "KHRUSHCHEV", "as KH");
    translit_is("Цой", "TSOI", "as TS");
    translit_is("Чехов", "CHEKHOV", "as CH");
    translit_is("Шостакович", "SHOSTAKOVICH", "as SH");
    translit_is("Щербаков", "SHCHERBAKOV", "as SHCH");
    translit_is("Юлия", "IULIIA", "as IU");
    translit_is("Ядвига", "IADVIGA", "as IA");
    translit_is("Крылов", "KRYLOV", "as Y");
    translit_is("Подъячев", "PODIEIACHEV", "as IE");
    translit_is("Игорь", "IGOR", "as I");
    /* Arabic (Part 3 table). */
    translit_is("محمد", "MXHMD", "as XH");
    translit_is("شريف", "XSHRYF", "as XSH");
    translit_is("عبد الله", "EBD<ALLH", "as E");
    /* Apostrophes dropped; spaces and hyphens become '<'; runs collapse. */
    translit_is("O'Brien", "OBRIEN", NULL);
    translit_is("D’Angelo", "DANGELO", NULL);
    translit_is("Smith-Jones", "SMITH<JONES", NULL);
    translit_is("  van  der   Berg ", "VAN<DER<BERG", NULL);
    translit_is("anna maria", "ANNA<MARIA", NULL);
    /* Characters without an MRZ form are replaced, with a warning. */
    translit_is("Ann3", "ANN", "character replaced: '3'");
    translit_is("李 Wei", "WEI", "character replaced: '李' (U+674E)");
    translit_is("Ωmega", "MEGA", "character replaced");
    translit_is("", "", NULL);

    struct buf out = BUF_INIT(64);
    struct err err = ERR_INIT;
    assert_int_equal(translit_mrz("\xC3\x28", 2, &out, NULL, &err), -1);
    assert_non_null(strstr(err_msg(&err), "UTF-8"));
    buf_release(&out);
}

/* Compare parsed fields with a generate input (names in MRZ form). */
static void fields_match(const struct mrz_fields *f, const json_t *in)
{
    struct buf p = BUF_INIT(256), s = BUF_INIT(256);
    const char *v;

#define SAME(key, have)                                                                            \
    do {                                                                                           \
        v = json_string_value(json_object_get(in, key));                                           \
        assert_string_equal(have, v ? v : "");                                                     \
    } while (0)
    SAME("document_code", f->document_code);
    SAME("issuing_state", f->issuing_state);
    SAME("document_number", f->document_number);
    SAME("nationality", f->nationality);
    SAME("optional_data", f->optional_data);
    SAME("optional_data_2", f->optional_data_2);
#undef SAME
    v = json_string_value(json_object_get(in, "primary_identifier"));
    assert_int_equal(translit_mrz(v, strlen(v), &p, NULL, NULL), 0);
    v = json_string_value(json_object_get(in, "secondary_identifier"));
    if (v)
        assert_int_equal(translit_mrz(v, strlen(v), &s, NULL, NULL), 0);
    for (size_t i = 0; i < p.len; i++)
        if (p.data[i] == '<')
            p.data[i] = ' ';
    for (size_t i = 0; i < s.len; i++)
        if (s.data[i] == '<')
            s.data[i] = ' ';
    assert_string_equal(f->primary_identifier, buf_str(&p));
    assert_string_equal(f->secondary_identifier, buf_str(&s));
    char d[16];
    snprintf(d, sizeof d, "%04d-%02d-%02d", f->date_of_birth.year, f->date_of_birth.month, f->date_of_birth.day);
    assert_string_equal(d, json_string_value(json_object_get(in, "date_of_birth")));
    snprintf(d, sizeof d, "%04d-%02d-%02d", f->date_of_expiry.year, f->date_of_expiry.month, f->date_of_expiry.day);
    assert_string_equal(d, json_string_value(json_object_get(in, "date_of_expiry")));
    assert_int_equal(f->sex, json_string_value(json_object_get(in, "sex"))[0]);
    buf_release(&p);
    buf_release(&s);
}

/* Every Doc 9303 specimen: generated byte for byte, parsed back to its data. */
static void test_specimens(void **state)
{
    static const char *const names[] = { "td1", "td2", "td3", "mrva", "mrvb", "td1-long-number",
                                         "td2-long-number" };
    static const enum mrz_format formats[] = { MRZ_TD1, MRZ_TD2, MRZ_TD3, MRZ_MRVA, MRZ_MRVB, MRZ_TD1, MRZ_TD2 };
    (void)state;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char file[64];
        struct buf lines = BUF_INIT(256), w = BUF_INIT(1024);
        struct err err = ERR_INIT;
        struct mrz_result res;
        json_t *in = NULL;

        snprintf(file, sizeof file, "%s.json", names[i]);
        char *js = test_data_read("mrz", file, NULL);
        snprintf(file, sizeof file, "%s.mrz", names[i]);
        char *want = test_data_read("mrz", file, NULL);
        assert_int_equal(json_parse(js, strlen(js), &in, &err), 0);
        if (mrz_generate_json(in, &lines, &w, &err) != 0)
            fail_msg("%s: %s", names[i], err_msg(&err));
        assert_int_equal(buf_append_byte(&lines, '\n'), 0);
        if (strcmp(buf_str(&lines), want) != 0)
            fail_msg("%s: generated\n%s\nwant\n%s", names[i], buf_str(&lines), want);

        assert_int_equal(mrz_parse(want, strlen(want), &today, &res, &err), 0);
        if (!res.valid)
            fail_msg("%s: %s at %d:%d", names[i], res.errors[0].message, res.errors[0].line, res.errors[0].column);
        assert_int_equal(res.format, formats[i]);
        fields_match(&res.fields, in);

        json_decref(in);
        free(js);
        free(want);
        buf_release(&lines);
        buf_release(&w);
    }
}

static struct mrz_input specimen_input(enum mrz_format f)
{
    struct mrz_input in = { 0 };
    in.format = f;
    in.document_code = f == MRZ_TD3 ? "P" : f >= MRZ_MRVA ? "V" : "I";
    in.issuing_state = "UTO";
    in.nationality = "UTO";
    in.primary_identifier = "Eriksson";
    in.secondary_identifier = "Anna Maria";
    in.document_number = "L898902C3";
    in.date_of_birth = (struct mrz_date){ 1974, 8, 12 };
    in.date_of_expiry = (struct mrz_date){ 2012, 4, 15 };
    in.sex = 'F';
    return in;
}

static char *gen(const struct mrz_input *in, struct buf *w)
{
    struct buf lines = BUF_INIT(256);
    struct err err = ERR_INIT;
    if (mrz_generate(in, &today, &lines, w, &err) != 0)
        fail_msg("generate: %s", err_msg(&err));
    return (char *)buf_detach(&lines, NULL);
}

static void gen_fails(const struct mrz_input *in, const char *msg)
{
    struct buf lines = BUF_INIT(256);
    struct err err = ERR_INIT;
    assert_int_equal(mrz_generate(in, &today, &lines, NULL, &err), -1);
    if (strstr(err_msg(&err), msg) == NULL)
        fail_msg("error '%s' lacks '%s'", err_msg(&err), msg);
    buf_release(&lines);
}

/* Doc 9303-3 4.6: truncation keeps the last position alphabetic and cuts
 * the secondary identifier before the primary. */
static void test_truncation(void **state)
{
    struct mrz_input in = specimen_input(MRZ_TD3);
    struct buf w = BUF_INIT(4096);
    char *m;
    (void)state;

    /* Secondary cut at the field's end. */
    in.primary_identifier = "Nilavadhanananda";
    in.secondary_identifier = "Chayapa Dejthamrong Krasuang";
    m = gen(&in, &w);
    assert_memory_equal(m + 5, "NILAVADHANANANDA<<CHAYAPA<DEJTHAMRONG<K", 39);
    free(m);
    /* The same holder on a TD1 card (30 characters on line 3). */
    in.format = MRZ_TD1;
    in.document_code = "I";
    in.optional_data = NULL;
    m = gen(&in, &w);
    assert_memory_equal(m + 62, "NILAVADHANANANDA<<CHAYAPA<DEJT", 30);
    in.format = MRZ_TD3;
    in.document_code = "P";
    assert_non_null(strstr(buf_str(&w), "truncated"));
    free(m);

    /* The cut falls on a separator: the component before it gives a letter
     * to the initial of the next one, so the field still ends in a letter. */
    buf_reset(&w);
    in.primary_identifier = "Abcdefghijklmnopqrstuvwxyzabcdef"; /* 32 letters */
    in.secondary_identifier = "Anna Maria";
    m = gen(&in, &w);
    assert_memory_equal(m + 5, "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF<<ANN<M", 39);
    free(m);

    /* Primary too long: cut to leave "<<" and the secondary's initial. */
    buf_reset(&w);
    in.primary_identifier = "Abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz";
    in.secondary_identifier = "Peter";
    m = gen(&in, &w);
    assert_memory_equal(m + 5, "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ<<P", 39);
    free(m);

    /* Primary alone too long, no secondary. */
    buf_reset(&w);
    in.secondary_identifier = NULL;
    m = gen(&in, &w);
    assert_memory_equal(m + 5, "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLM", 39);
    free(m);

    /* Exactly full is not truncated. */
    buf_reset(&w);
    in.primary_identifier = "Abcdefghijklmnopqrstuvwxyzabcdefghij"; /* 36 */
    in.secondary_identifier = "Q";
    m = gen(&in, &w);
    assert_memory_equal(m + 5, "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ<<Q", 39);
    assert_null(strstr(buf_str(&w), "truncated"));
    free(m);
    buf_release(&w);
}

static void test_generate_rules(void **state)
{
    struct mrz_input in;
    struct buf w = BUF_INIT(4096);
    char *m;
    (void)state;

    /* TD3 empty personal number: check digit '<'. */
    in = specimen_input(MRZ_TD3);
    m = gen(&in, &w);
    assert_memory_equal(m + 45 + 28, "<<<<<<<<<<<<<<<", 15);
    free(m);
    /* One-letter and British codes padded with filler. */
    in.issuing_state = "D";
    in.nationality = "GBD";
    m = gen(&in, &w);
    assert_memory_equal(m + 2, "D<<", 3);
    assert_memory_equal(m + 45 + 10, "GBD", 3);
    free(m);
    /* Sex X and unspecified. */
    in.sex = 'X';
    m = gen(&in, &w);
    assert_int_equal(m[45 + 20], 'X');
    free(m);
    /* Errors name the field: the specimen with one text field changed... */
    static const struct {
        enum mrz_format format;
        size_t field; /* offset of a text member of struct mrz_input */
        const char *value, *msg;
    } bad_text[] = {
        { MRZ_TD3, offsetof(struct mrz_input, issuing_state), "ABC", "issuing_state: 'ABC'" },
        { MRZ_TD3, offsetof(struct mrz_input, nationality), "uto", "nationality" },
        { MRZ_TD3, offsetof(struct mrz_input, document_number), "L898902C3X", "document_number: 10 characters, TD3 allows at most 9" },
        { MRZ_TD3, offsetof(struct mrz_input, document_number), "L8989-02", "document_number" },
        { MRZ_TD3, offsetof(struct mrz_input, document_code), "I", "document_code" },
        { MRZ_TD2, offsetof(struct mrz_input, optional_data), "ABCDEFGH", "optional_data: 8 characters, TD2 has room for 7" },
        { MRZ_TD3, offsetof(struct mrz_input, optional_data_2), "X", "optional_data_2" },
        { MRZ_TD3, offsetof(struct mrz_input, optional_data), "ab", "optional_data" },
        { MRZ_TD3, offsetof(struct mrz_input, primary_identifier), "123", "primary_identifier: no letters" },
        { MRZ_TD2, offsetof(struct mrz_input, document_number), "D231458907341234", "document_number: 16 characters" },
    };
    for (size_t i = 0; i < sizeof bad_text / sizeof bad_text[0]; i++) {
        in = specimen_input(bad_text[i].format);
        *(const char **)((char *)&in + bad_text[i].field) = bad_text[i].value;
        gen_fails(&in, bad_text[i].msg);
    }
    /* ...its sex or its birth date. */
    in = specimen_input(MRZ_TD3);
    in.sex = 'Q';
    gen_fails(&in, "sex");
    static const struct {
        struct mrz_date date;
        const char *msg;
    } bad_birth[] = {
        { { 2030, 1, 1 }, "date_of_birth: 2030-01-01 is in the future" },
        { { 2001, 2, 29 }, "date_of_birth: not a valid date" },
    };
    for (size_t i = 0; i < sizeof bad_birth / sizeof bad_birth[0]; i++) {
        in = specimen_input(MRZ_TD3);
        in.date_of_birth = bad_birth[i].date;
        gen_fails(&in, bad_birth[i].msg);
    }
    /* Old birth date: a warning about the century. */
    in = specimen_input(MRZ_TD3);
    in.date_of_birth = (struct mrz_date){ 1920, 1, 1 };
    buf_reset(&w);
    m = gen(&in, &w);
    assert_non_null(strstr(buf_str(&w), "date_of_birth: more than 100 years ago"));
    free(m);
    buf_release(&w);

    /* JSON front end: unknown member, missing member, bad date. */
    struct buf lines = BUF_INIT(256);
    struct err err = ERR_INIT;
    const struct {
        json_t *j;
        const char *field;
    } bad_json[] = {
        { json_pack("{s:s}", "format", "TD9"), "format" },
        { json_pack("{s:s,s:s}", "format", "TD3", "colour", "red"), "colour" },
        { json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "format", "TD3", "document_code", "P", "issuing_state",
                    "UTO", "primary_identifier", "X", "document_number", "1", "nationality", "UTO", "date_of_birth",
                    "1974-13-01", "sex", "F", "date_of_expiry", "2030-01-01"),
          "date_of_birth" },
    };
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        assert_int_equal(mrz_generate_json(bad_json[i].j, &lines, NULL, &err), -1);
        assert_non_null(strstr(err_msg(&err), bad_json[i].field));
        json_decref(bad_json[i].j);
    }
    buf_release(&lines);
}

static const struct mrz_error *find_error(const struct mrz_result *r, const char *field)
{
    for (size_t i = 0; i < r->nerrors; i++)
        if (strcmp(r->errors[i].field, field) == 0)
            return &r->errors[i];
    return NULL;
}

static void parse_error_at(const char *text, const char *field, int line, int column, const char *msg)
{
    struct mrz_result res;
    struct err err = ERR_INIT;
    assert_int_equal(mrz_parse(text, strlen(text), &today, &res, &err), 0);
    assert_false(res.valid);
    const struct mrz_error *e = find_error(&res, field);
    if (e == NULL)
        fail_msg("no error for %s (first: %s %s)", field, res.nerrors ? res.errors[0].field : "-",
                 res.nerrors ? res.errors[0].message : "-");
    assert_int_equal(e->line, line);
    assert_int_equal(e->column, column);
    if (strstr(e->message, msg) == NULL)
        fail_msg("message '%s' lacks '%s'", e->message, msg);
}

static void test_parse_errors(void **state)
{
    struct mrz_result res;
    struct err err = ERR_INIT;
    (void)state;

    /* Tolerated: surrounding spaces, CRLF, blank lines, one DG1-style line. */
    const char *td3 = "  P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<  \r\n\r\n"
                      "L898902C36UTO7408122F1204159ZE184226B<<<<<10\r\n";
    assert_int_equal(mrz_parse(td3, strlen(td3), &today, &res, &err), 0);
    assert_true(res.valid);
    const char *dg1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10";
    assert_int_equal(mrz_parse(dg1, strlen(dg1), &today, &res, &err), 0);
    assert_true(res.valid);
    assert_string_equal(res.fields.document_number, "L898902C3");

    /* TD3 empty personal number: '<' or '0' both valid. */
    const char *z = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159<<<<<<<<<<<<<<<8";
    const char *z0 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159<<<<<<<<<<<<<<08";
    assert_int_equal(mrz_parse(z, strlen(z), &today, &res, &err), 0);
    assert_true(res.valid);
    assert_int_equal(mrz_parse(z0, strlen(z0), &today, &res, &err), 0);
    assert_true(res.valid);
    parse_error_at("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159<<<<<<<<<<<<<<78",
                   "optional_data_check", 2, 43, "empty personal number");

    static const struct {
        const char *text, *field;
        int line, column;
        const char *msg;
    } located[] = {
        /* Wrong check digits, located. */
        { "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C37UTO7408122F1204159ZE184226B<<<<<10", "document_number_check", 2, 10, "check digit is 7, the data gives 6" },
        { "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<19", "composite_check", 2, 44, "check digit is 9, the data gives 0" },
        { "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<5\nERIKSSON<<ANNA<MARIA<<<<<<<<<<", "composite_check", 2, 30, "the data gives 6" },
        /* Wrong length. */
        { "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<1", "line", 2, 44, "line 2 has 43 characters, TD3 lines have 44" },
        /* Characters outside [A-Z0-9<]. */
        { "P<UTOERIKSSON<<ANNA<maria<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10", "name", 1, 21, "character 'm'" },
        { "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE18\xC3\xA9" "26B<<<<10", "optional_data", 2, 33, "byte 0xC3" },
        /* Impossible dates. */
        { "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7413122F1204159ZE184226B<<<<<10", "date_of_birth", 2, 16, "month 13" },
        { "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1202309ZE184226B<<<<<10", "date_of_expiry", 2, 26, "2012-02-30 does not exist" },
        /* Unknown state, bad sex, bad document code. */
        { "P<ABCERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10", "issuing_state", 1, 3, "'ABC'" },
        { "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122Q1204159ZE184226B<<<<<10", "sex", 2, 21, "'Q'" },
        { "Q<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10", "document_code", 1, 1, "start with one of P" },
        { "P<UTO<<ERIKSSON<<<<<<<<<<<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10", "name", 1, 6, "primary identifier is empty" },
    };
    for (size_t i = 0; i < sizeof located / sizeof located[0]; i++)
        parse_error_at(located[i].text, located[i].field, located[i].line, located[i].column,
                       located[i].msg);

    /* Not an MRZ at all. */
    static const char *const notmrz[] = { "", "hello\nworld", "P<UTO", "a\nb\nc\nd",
                                          "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<" };
    for (size_t i = 0; i < sizeof notmrz / sizeof notmrz[0]; i++)
        assert_int_equal(mrz_parse(notmrz[i], strlen(notmrz[i]), &today, &res, &err), -1);
    assert_non_null(strstr(err_msg(&err), "not an MRZ"));
}

static void parsed_equals_input(const struct mrz_random *r, const struct mrz_result *res, const char *lines,
                                bool truncated)
{
    const struct mrz_fields *f = &res->fields;
    struct buf p = BUF_INIT(1024), s = BUF_INIT(1024);

    if (!res->valid)
        fail_msg("invalid: %s (%s at %d:%d)\n%s", res->errors[0].message, res->errors[0].field,
                 res->errors[0].line, res->errors[0].column, lines);
    assert_int_equal(res->format, r->in.format);
    assert_string_equal(f->document_code, r->document_code[1] == '<' ? "" : r->document_code);
    assert_string_equal(f->issuing_state, r->issuing_state);
    assert_string_equal(f->nationality, r->nationality);
    assert_string_equal(f->document_number, r->document_number);
    assert_string_equal(f->optional_data, r->optional_data);
    assert_string_equal(f->optional_data_2, r->optional_data_2);
    assert_int_equal(f->sex, r->sex);
    assert_memory_equal(&f->date_of_birth, &r->in.date_of_birth, sizeof f->date_of_birth);
    assert_memory_equal(&f->date_of_expiry, &r->in.date_of_expiry, sizeof f->date_of_expiry);
    assert_int_equal(translit_mrz(r->primary, strlen(r->primary), &p, NULL, NULL), 0);
    assert_int_equal(translit_mrz(r->secondary, strlen(r->secondary), &s, NULL, NULL), 0);
    for (size_t i = 0; i < p.len; i++)
        p.data[i] = p.data[i] == '<' ? ' ' : p.data[i];
    for (size_t i = 0; i < s.len; i++)
        s.data[i] = s.data[i] == '<' ? ' ' : s.data[i];
    if (!truncated) {
        assert_string_equal(f->primary_identifier, buf_str(&p));
        assert_string_equal(f->secondary_identifier, buf_str(&s));
    } else {
        /* Truncated: the primary identifier is kept whenever it fits (the
         * secondary is cut first) and the field ends in a letter. */
        int width = mrz_format_width(r->in.format);
        const char *nl = r->in.format == MRZ_TD1 ? strrchr(lines, '\n') + 1 : lines + 5;
        int nlen = r->in.format == MRZ_TD1 ? 30 : width - 5;
        assert_true(nl[nlen - 1] >= 'A' && nl[nlen - 1] <= 'Z');
        if (p.len + 3 <= (size_t)nlen)
            assert_string_equal(f->primary_identifier, buf_str(&p));
    }
    buf_release(&p);
    buf_release(&s);
}

/* 10,000 random valid records round-trip generate -> parse unchanged. */
static void test_property_round_trip(void **state)
{
    uint64_t seed = 0x9303C1B1E5EEDull;
    int truncations = 0, counts[5] = { 0 };
    (void)state;

    for (int i = 0; i < 10000; i++) {
        struct mrz_random r;
        struct buf lines = BUF_INIT(256), w = BUF_INIT(8192);
        struct err err = ERR_INIT;
        struct mrz_result res;

        mrz_random_record(&r, &seed, &today, 0);
        if (mrz_generate(&r.in, &today, &lines, &w, &err) != 0)
            fail_msg("record %d: %s (%s / %s, %s)", i, err_msg(&err), r.primary, r.secondary, r.document_number);
        bool truncated = strstr(buf_str(&w), "truncated") != NULL;
        truncations += truncated;
        counts[r.in.format]++;
        assert_int_equal(mrz_parse(buf_str(&lines), lines.len, &today, &res, &err), 0);
        parsed_equals_input(&r, &res, buf_str(&lines), truncated);
        buf_release(&lines);
        buf_release(&w);
    }
    print_message("10000 records (TD1 %d, TD2 %d, TD3 %d, MRV-A %d, MRV-B %d), %d with truncated names\n", counts[0],
                  counts[1], counts[2], counts[3], counts[4], truncations);
    for (int f = 0; f < 5; f++)
        assert_true(counts[f] > 1000);
    assert_true(truncations > 0);
}

static int char_value(char c)
{
    return c == '<' ? 0 : c <= '9' ? c - '0' : c - 'A' + 10;
}

/* Positions a check digit protects, per format: (line, from, to) inclusive. */
static int protected_at(enum mrz_format f, int line, int col)
{
    switch (f) {
    case MRZ_TD1: /* composite: line 1 6-30, line 2 1-7, 9-15, 19-30 */
        return (line == 0 && col >= 5) || (line == 1 && (col <= 6 || (col >= 8 && col <= 14) || col >= 18));
    case MRZ_TD2:
        return line == 1 && (col <= 9 || (col >= 13 && col <= 19) || col >= 21);
    case MRZ_TD3:
        return line == 1 && (col <= 9 || (col >= 13 && col <= 19) || col >= 21);
    default: /* MRV: document number, birth and expiry dates with their digits */
        return line == 1 && (col <= 9 || (col >= 13 && col <= 19) || (col >= 21 && col <= 27));
    }
}

/* Every single-character substitution in a check-digit-protected position
 * whose value differs by other than a multiple of 10 (what weights 7, 3, 1
 * mod 10 are guaranteed to catch) makes the MRZ invalid. */
static void test_substitutions(void **state)
{
    static const char charset[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<";
    static const char *const files[] = { "td1.mrz", "td2.mrz", "td3.mrz", "mrva.mrz", "mrvb.mrz",
                                         "td1-long-number.mrz", "td2-long-number.mrz" };
    uint64_t seed = 42;
    long tried = 0, guaranteed = 0, caught_extra = 0;
    (void)state;

    for (size_t k = 0; k < sizeof files / sizeof files[0] + 60; k++) {
        char *text;
        struct mrz_result res;
        struct err err = ERR_INIT;
        if (k < sizeof files / sizeof files[0]) {
            text = test_data_read("mrz", files[k], NULL);
        } else { /* and random records */
            struct mrz_random r;
            struct buf lines = BUF_INIT(256);
            mrz_random_record(&r, &seed, &today, 0);
            assert_int_equal(mrz_generate(&r.in, &today, &lines, NULL, &err), 0);
            text = (char *)buf_detach(&lines, NULL);
        }
        assert_int_equal(mrz_parse(text, strlen(text), &today, &res, &err), 0);
        assert_true(res.valid);
        enum mrz_format f = res.format;
        int width = mrz_format_width(f);
        for (int l = 0; l < mrz_format_lines(f); l++) {
            for (int c = 0; c < width; c++) {
                if (!protected_at(f, l, c))
                    continue;
                char *p = text + l * (width + 1) + c, orig = *p;
                for (const char *s = charset; *s; s++) {
                    if (*s == orig)
                        continue;
                    *p = *s;
                    tried++;
                    assert_int_equal(mrz_parse(text, strlen(text), &today, &res, &err), 0);
                    if ((char_value(*s) - char_value(orig)) % 10 != 0) {
                        guaranteed++;
                        if (res.valid)
                            fail_msg("%c -> %c at line %d column %d not detected:\n%s", orig, *s, l + 1, c + 1, text);
                    } else if (!res.valid) {
                        caught_extra++;
                    }
                }
                *p = orig;
            }
        }
        free(text);
    }
    print_message("%ld substitutions, %ld guaranteed and all caught, %ld more caught by field rules\n", tried,
                  guaranteed, caught_extra);
    assert_true(guaranteed > 10000);
}

static void test_result_json(void **state)
{
    struct mrz_result res;
    struct err err = ERR_INIT;
    struct buf out = BUF_INIT(1 << 16);
    json_t *j = NULL;
    char *td1 = test_data_read("mrz", "td1-long-number.mrz", NULL);
    (void)state;
    assert_int_equal(mrz_parse(td1, strlen(td1), &today, &res, &err), 0);
    assert_int_equal(mrz_result_json(&res, &j, &err), 0);
    assert_int_equal(json_dump_compact(j, &out, &err), 0);
    assert_string_equal(buf_str(&out),
                        "{\"format\":\"TD1\",\"valid\":true,\"fields\":{\"document_code\":\"I\",\"issuing_state\":\"UTO\","
                        "\"primary_identifier\":\"STEVENSON\",\"secondary_identifier\":\"PETER JOHN\","
                        "\"document_number\":\"D23145890734\",\"document_number_check\":\"9\",\"nationality\":\"UTO\","
                        "\"date_of_birth\":\"1934-07-12\",\"date_of_birth_check\":\"7\",\"sex\":\"M\","
                        "\"date_of_expiry\":\"1995-07-12\",\"date_of_expiry_check\":\"2\",\"optional_data\":\"\","
                        "\"optional_data_2\":\"\",\"composite_check\":\"2\"},\"checks\":["
                        "{\"field\":\"document_number\",\"expected\":\"9\",\"found\":\"9\",\"valid\":true},"
                        "{\"field\":\"date_of_birth\",\"expected\":\"7\",\"found\":\"7\",\"valid\":true},"
                        "{\"field\":\"date_of_expiry\",\"expected\":\"2\",\"found\":\"2\",\"valid\":true},"
                        "{\"field\":\"composite\",\"expected\":\"2\",\"found\":\"2\",\"valid\":true}],\"errors\":[]}");
    json_decref(j);
    buf_release(&out);
    free(td1);
}

CMOCKA_MAIN(NULL, NULL, test_check_digit, test_tables, test_transliterate, test_specimens,
            test_truncation, test_generate_rules, test_parse_errors, test_property_round_trip,
            test_substitutions, test_result_json)
