/* Replays a fuzz target's corpus without libFuzzer: every file under the
 * given folders, then deterministic mutations of each (bit flips,
 * truncations, byte insertions), so regressions show up in every test run. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static const uint8_t specials[] = { '<', '>', '{', '}', '[', ']', '"', ':', ',', '\\',
                                    0x00, 0xff, '\n', '=', 0xc3, 0xe2 };

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void mutate_and_run(const uint8_t *data, size_t len)
{
    uint8_t *m = malloc(len + 16);

    if (m == NULL)
        return;
    for (int round = 0; round < 200; round++) {
        size_t n = len;
        memcpy(m, data, len);
        switch (next() % 4) {
        case 0:
            if (n)
                m[next() % n] ^= (uint8_t)(1u << (next() % 8));
            break;
        case 1:
            n = n ? next() % n : 0;
            break;
        case 2: {
            size_t at = n ? next() % (n + 1) : 0;
            memmove(m + at + 1, m + at, n - at);
            m[at] = (uint8_t)next();
            n++;
            break;
        }
        default:
            if (n)
                m[next() % n] = specials[next() % sizeof specials];
            break;
        }
        LLVMFuzzerTestOneInput(m, n);
    }
    free(m);
}

int main(int argc, char **argv)
{
    int files = 0;

    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        struct dirent *de;
        if (d == NULL) {
            fprintf(stderr, "%s: cannot open corpus folder\n", argv[i]);
            return 1;
        }
        while ((de = readdir(d)) != NULL) {
            char path[4096];
            FILE *f;
            uint8_t *buf;
            long len;
            if (de->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
            f = fopen(path, "rb");
            if (f == NULL)
                continue;
            fseek(f, 0, SEEK_END);
            len = ftell(f);
            fseek(f, 0, SEEK_SET);
            buf = malloc(len > 0 ? (size_t)len : 1);
            if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len) {
                LLVMFuzzerTestOneInput(buf, (size_t)len);
                mutate_and_run(buf, (size_t)len);
                files++;
            }
            free(buf);
            fclose(f);
        }
        closedir(d);
    }
    if (files == 0) {
        fprintf(stderr, "no corpus files found\n");
        return 1;
    }
    printf("replayed %d corpus files with 200 mutations each\n", files);
    return 0;
}
