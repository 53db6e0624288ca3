/* bench/scan: pages per second of civreg's scanner and of zbarimg on the
 * same files, side by side in one run.
 *
 *   build/tests/scan_corpus /tmp/corpus >/dev/null   # the 200-page test corpus
 *   build/bench/scan /tmp/corpus
 *
 * Figures: in-process decode + barcodes + quality on one thread (and the
 * seconds of each part); the
 * `civreg scan decode` command on one thread without and with the retries,
 * and on every CPU; `zbarimg -q`
 * (one process over all files, as civreg). Wall-clock times, and each
 * child's CPU seconds (user + system); the commands run in interleaved
 * rounds (default 3) and the best of each is kept. */
#include <dirent.h>
#include <fcntl.h>
#include "bench_util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scanner/analyze.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run ARGV (head + files) with output to /dev/null; wall seconds, or -1.
 * *CPU gets the child's user + system seconds. */
static double run(const char *const *head, size_t nhead, char **files, size_t n, double *cpu)
{
    struct rusage ru;
    char **argv = calloc(nhead + n + 1, sizeof *argv);
    double t0 = now();
    pid_t pid;
    int status;

    if (argv == NULL)
        return -1;
    for (size_t i = 0; i < nhead; i++)
        argv[i] = (char *)head[i];
    memcpy(argv + nhead, files, n * sizeof *files);
    pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    free(argv);
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) ||
        (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 4))
        return -1;
    *cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
    return now() - t0;
}

/* run() once: the least wall seconds so far in *BEST, the least CPU seconds
 * in *BEST_CPU (each -1 until a run succeeds). */
static void run_best(const char *const *head, size_t nhead, char **files, size_t n, double *best,
                     double *best_cpu)
{
    double cpu = 0, t = run(head, nhead, files, n, &cpu);

    if (t > 0 && (*best < 0 || t < *best))
        *best = t;
    if (t > 0 && (*best_cpu < 0 || cpu < *best_cpu))
        *best_cpu = cpu;
}

int main(int argc, char **argv)
{
    char **files = NULL;
    size_t n = 0, pages = 0, symbols = 0;
    struct scan_reader *rd = NULL;
    struct err err = ERR_INIT;
    struct dirent *de;
    double t0, inproc, c0, c1, cn, z, cpu_c0, cpu_c1, cpu_cn, cpu_z, t_decode = 0, t_barcodes = 0, t_quality = 0;
    int rounds = 3;
    DIR *d;

    static const char usage[] =
        "usage: scan DIR [ROUNDS] [--json FILE]   (build/tests/scan_corpus DIR first)\n"
        "  decodes every file of DIR in-process, with `civreg scan decode` and with zbarimg\n"
        "  (the anchor), ROUNDS interleaved rounds (default 3), and prints pages/s\n";
    long rounds_arg = 3;
    int o = bench_args(&argc, argv, usage, 1, 2);
    if (o != 0)
        return o > 0 ? 0 : 2;
    if (argc == 3 && bench_long(argv[2], 1, 20, &rounds_arg) != 0) {
        fprintf(stderr, "scan: ROUNDS must be 1 to 20\n");
        return 2;
    }
    rounds = (int)rounds_arg;
    d = opendir(argv[1]);
    if (d == NULL) {
        fprintf(stderr, "scan: cannot open %s\n", argv[1]);
        return 1;
    }
    while ((de = readdir(d)) != NULL) {
        char path[4096];
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", argv[1], de->d_name);
        files = realloc(files, (n + 1) * sizeof *files);
        files[n++] = strdup(path);
    }
    closedir(d);
    qsort(files, n, sizeof *files, cmp_str);
    if (n == 0 || scan_reader_new(&rd, &err) != 0) {
        fprintf(stderr, "scan: no files in %s\n", argv[1]);
        return 1;
    }

    /* The same work as SCAN_ANALYZE_ALL, each part timed on its own. */
    t0 = now();
    for (size_t i = 0; i < n; i++) {
        struct scan_pages pg = SCAN_PAGES_INIT;
        double t = now();
        if (scan_decode_file(files[i], NULL, &pg, &err) != 0) {
            fprintf(stderr, "scan: %s\n", err_msg(&err));
            continue;
        }
        t_decode += now() - t;
        for (size_t p = 0; p < pg.count; p++) {
            struct scan_page_report r = SCAN_PAGE_REPORT_INIT, rq = SCAN_PAGE_REPORT_INIT;
            t = now();
            if (scan_analyze_page(rd, &pg.page[p], SCAN_ANALYZE_BARCODES, &r, &err) == 0) {
                pages++;
                symbols += r.symbols.count;
            }
            t_barcodes += now() - t;
            t = now();
            if (scan_analyze_page(rd, &pg.page[p], SCAN_ANALYZE_QUALITY, &rq, &err) != 0)
                fprintf(stderr, "scan: %s\n", err_msg(&err));
            t_quality += now() - t;
            scan_page_report_release(&r);
            scan_page_report_release(&rq);
        }
        scan_pages_release(&pg);
    }
    inproc = now() - t0;
    scan_reader_free(rd);

    /* Interleaved rounds, best of each: the machine is shared, and the
     * three commands then see the same background load. */
    c1 = cn = z = c0 = cpu_c0 = cpu_c1 = cpu_cn = cpu_z = -1;
    for (int round = 0; round < rounds; round++) {
        static const char *const one[] = { CIVREG_BIN, "scan", "decode", "--jobs", "1" };
        static const char *const all[] = { CIVREG_BIN, "scan", "decode" };
        static const char *const zb[] = { "/usr/bin/zbarimg", "-q" };
        static const char *const nr[] = { CIVREG_BIN, "scan", "decode", "--jobs", "1", "--no-retry" };
        run_best(nr, 6, files, n, &c0, &cpu_c0);
        run_best(one, 5, files, n, &c1, &cpu_c1);
        run_best(all, 3, files, n, &cn, &cpu_cn);
        run_best(zb, 2, files, n, &z, &cpu_z);
    }
    printf("files %zu, pages %zu, barcodes read %zu, %ld CPUs, best of %d rounds\n", n, pages,
           symbols, sysconf(_SC_NPROCESSORS_ONLN), rounds);
    printf("in-process decode+barcodes+quality, 1 thread: %8.1f pages/s\n", pages / inproc);
    printf("  of which decode %.2f s, barcodes (with retries) %.2f s, quality %.2f s\n", t_decode,
           t_barcodes, t_quality);
    bench_figure("scan.inprocess_pages_per_s", pages / inproc, "pages/s");
    if (c0 > 0)
        bench_figure("scan.civreg_1_noretry_pages_per_s", pages / c0, "pages/s");
    if (c1 > 0)
        bench_figure("scan.civreg_1_pages_per_s", pages / c1, "pages/s");
    if (cn > 0)
        bench_figure("scan.civreg_all_pages_per_s", pages / cn, "pages/s");
    if (z > 0)
        bench_figure("anchor.zbarimg_pages_per_s", pages / z, "pages/s");
    if (c0 > 0)
        printf("civreg scan decode --jobs 1 --no-retry:    %8.1f pages/s\n", pages / c0);
    if (c1 > 0)
        printf("civreg scan decode --jobs 1:               %8.1f pages/s\n", pages / c1);
    if (cn > 0)
        printf("civreg scan decode (all CPUs):             %8.1f pages/s\n", pages / cn);
    if (z > 0)
        printf("zbarimg -q:                                %8.1f pages/s\n", pages / z);
    if (z > 0 && c0 > 0 && c1 > 0 && cn > 0)
        printf("ratio civreg/zbarimg: %.2f (1 thread, no retries), %.2f (1 thread), "
               "%.2f (all CPUs)\n", z / c0, z / c1, z / cn);
    /* The machine is shared: CPU seconds move far less with its load than
     * wall time does. */
    if (cpu_z > 0 && cpu_c0 > 0 && cpu_c1 > 0 && cpu_cn > 0) {
        printf("pages per CPU second (best of %d): civreg --no-retry %.1f, civreg %.1f, "
               "civreg all CPUs %.1f, zbarimg %.1f\n", rounds, pages / cpu_c0, pages / cpu_c1,
               pages / cpu_cn, pages / cpu_z);
        printf("ratio civreg/zbarimg per CPU second: %.2f (no retries), %.2f (retries), "
               "%.2f (all CPUs)\n", cpu_z / cpu_c0, cpu_z / cpu_c1, cpu_z / cpu_cn);
        bench_figure("scan.civreg_1_pages_per_cpu_s", pages / cpu_c1, "pages/CPU s");
        bench_figure("anchor.zbarimg_pages_per_cpu_s", pages / cpu_z, "pages/CPU s");
    }
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
    return bench_write_json("scan") != 0;
}
