/* Benchmark: MRZs generated per second (names with and without national
 * characters) and MRZs parsed per second, for TD3 and TD1. Prints figures;
 * run it by hand on an otherwise idle machine. */
#include "bench_util.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "issuance/icao/mrz.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct mrz_input input(enum mrz_format f, const char *primary, const char *secondary)
{
    struct mrz_input in;
    memset(&in, 0, sizeof in);
    in.format = f;
    in.document_code = f == MRZ_TD3 ? "P" : "I";
    in.issuing_state = "UTO";
    in.nationality = "UTO";
    in.primary_identifier = primary;
    in.secondary_identifier = secondary;
    in.document_number = "L898902C3";
    in.date_of_birth = (struct mrz_date){ 1974, 8, 12 };
    in.date_of_expiry = (struct mrz_date){ 2032, 4, 15 };
    in.sex = 'F';
    in.optional_data = "ZE184226B";
    return in;
}

static int bench_generate(const char *label, const struct mrz_input *in, int n, char *last, size_t lastsize)
{
    struct buf lines = BUF_INIT(256), w = BUF_INIT(4096);
    struct err err = ERR_INIT;
    double t0 = now();
    for (int i = 0; i < n; i++) {
        buf_reset(&lines);
        buf_reset(&w);
        if (mrz_generate(in, NULL, &lines, &w, &err) != 0) {
            fprintf(stderr, "bench mrz: %s\n", err_msg(&err));
            return -1;
        }
    }
    double dt = now() - t0;
    printf("generate %-34s %10.0f MRZs/s\n", label, n / dt);
    bench_figuref(n / dt, "MRZs/s", "mrz.generate %s", label);
    snprintf(last, lastsize, "%s", buf_str(&lines));
    buf_release(&lines);
    buf_release(&w);
    return 0;
}

static int bench_parse(const char *label, const char *text, int n)
{
    struct mrz_result res;
    struct err err = ERR_INIT;
    double t0 = now();
    for (int i = 0; i < n; i++)
        if (mrz_parse(text, strlen(text), NULL, &res, &err) != 0 || !res.valid) {
            fprintf(stderr, "bench mrz: parse failed\n");
            return -1;
        }
    double dt = now() - t0;
    printf("parse    %-34s %10.0f MRZs/s\n", label, n / dt);
    bench_figuref(n / dt, "MRZs/s", "mrz.parse %s", label);
    return 0;
}

int main(int argc, char **argv)
{
    static const char usage[] = "usage: mrz [N] [--json FILE]\n"
                                "  MRZs generated and parsed per second (N each, default 200000)\n";
    char td3[MRZ_TEXT_MAX + 1], td1[MRZ_TEXT_MAX + 1], scratch[MRZ_TEXT_MAX + 1];
    long count = 200000;
    int o = bench_args(&argc, argv, usage, 0, 1);
    if (o != 0)
        return o > 0 ? 0 : 2;
    if (argc == 2 && bench_long(argv[1], 4, 100000000, &count) != 0) {
        fputs(usage, stderr);
        return 2;
    }
    int n = (int)count;
    struct mrz_input a = input(MRZ_TD3, "Eriksson", "Anna Maria");
    struct mrz_input b = input(MRZ_TD3, "Müller-Łukasiewicz", "José Ñúñez");
    struct mrz_input c = input(MRZ_TD3, "Щербаков", "Юлия");
    struct mrz_input d = input(MRZ_TD1, "Eriksson", "Anna Maria");

    d.optional_data = NULL;
    if (bench_generate("TD3, ASCII names", &a, n, td3, sizeof td3) != 0 ||
        bench_generate("TD3, Latin names with diacritics", &b, n / 4, scratch, sizeof scratch) != 0 ||
        bench_generate("TD3, Cyrillic names", &c, n / 4, scratch, sizeof scratch) != 0 ||
        bench_generate("TD1, ASCII names", &d, n, td1, sizeof td1) != 0 ||
        bench_parse("TD3", td3, n) != 0 || bench_parse("TD1", td1, n) != 0)
        return 1;
    return bench_write_json("mrz") != 0;
}
