/* civreg tests: `scan_corpus DIR [PAGES]` writes the generated scan corpus
 * (for bench/scan and by-hand checks) and prints its manifest. */
#include <stdio.h>
#include <stdlib.h>

#include "pagegen.h"

int main(int argc, char **argv)
{
    size_t n = 200, files = 0;
    struct pg_expect *e;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: scan_corpus DIR [PAGES]\n");
        return 2;
    }
    if (argc == 3) {
        char *end;
        long v = strtol(argv[2], &end, 10);
        if (*end || v < 1 || v > 100000) {
            fprintf(stderr, "scan_corpus: bad page count '%s'\n", argv[2]);
            return 2;
        }
        n = (size_t)v;
    }
    e = calloc(n, sizeof *e);
    if (e == NULL || pg_corpus(argv[1], n, 0x5eed, e, &files) != 0) {
        fprintf(stderr, "scan_corpus: cannot write the corpus into %s\n", argv[1]);
        free(e);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        printf("%s\t%u\t%s\t%s\t%s\n", e[i].file, e[i].page, pg_zbar_name(e[i].sym),
               e[i].payload, e[i].degradation);
    fprintf(stderr, "scan_corpus: %zu pages in %zu files\n", n, files);
    free(e);
    return 0;
}
