/* bench/chip_read: chips read per second by the inspection system
 * (SELECT, BAC, EF.COM, DG1, DG2, DG15, EF.SOD under secure messaging,
 * passive authentication, Active Authentication):
 *   - in-process against the virtual chip (the protocol and crypto cost);
 *   - with --reader NAME, through PC/SC, e.g. pcscd + vsmartcard-vpcd with
 *     `civreg chip emulate DIR` running on the package this bench prints.
 * usage: chip_read [SECONDS] [--reader NAME]
 * It personalizes its own package with the civreg binary (ECDSA P-256 AA). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "issuance/reader/reader.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char mrz[] = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
                          "L898902C36UTO7408122F1204159ZE184226B<<<<<10\n";

int main(int argc, char **argv)
{
    char dir[] = "/tmp/civreg-bench-read-XXXXXX", cmd[4096], path[512];
    double seconds = 3, t0, t;
    const char *reader = NULL;
    struct pa_trust *trust = NULL;
    struct buf csca = BUF_INIT(1 << 20);
    struct err err = ERR_INIT;
    FILE *f;
    int n;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reader") == 0 && i + 1 < argc)
            reader = argv[++i];
        else
            seconds = strtod(argv[i], NULL);
    }
    if (seconds <= 0)
        seconds = 3;
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(cmd, sizeof cmd,
             "cd '%s' && printf 'nimda-tundra-ferns-61\\n' > a.pw && "
             "printf 'reciffo-tundra-ferns-61\\n' > o.pw && printf '%%s' '%s' > mrz.txt && B='%s' && "
             "$B init --data data && $B user add --data data --username admin --role admin < a.pw && "
             "$B user add --data data --username officer --role issuance_operator --user admin "
             "--password-file a.pw < o.pw && "
             "$B pki init --data data --country UT --user admin --password-file a.pw && "
             "$B pki issue-ds --data data --user admin --password-file a.pw && "
             "$B pki export csca --data data > csca.pem && "
             "$B chip personalize --data data --mrz-lines mrz.txt --photo "
             "'%s/tests/data/icao/face-120x160.jpg' --aa ecdsa-p256 --out pkg --user officer "
             "--password-file o.pw",
             dir, mrz, CIVREG_BIN, CIVREG_SOURCE_DIR);
    {
        char quiet[4200];
        snprintf(quiet, sizeof quiet, "( %s ) > /dev/null 2>&1", cmd);
        if (system(quiet) != 0) {
            fprintf(stderr, "chip_read: personalizing the package failed\n");
            return 1;
        }
    }
    snprintf(path, sizeof path, "%s/csca.pem", dir);
    if ((f = fopen(path, "rb")) == NULL)
        return 1;
    {
        unsigned char b[4096];
        size_t r;
        while ((r = fread(b, 1, sizeof b, f)) > 0)
            if (buf_append(&csca, b, r) != 0)
                return 1;
        fclose(f);
    }
    if (pa_trust_new(&trust, &err) != 0 ||
        pa_trust_add_csca(trust, csca.data, csca.len, "csca", &err) != 0) {
        fprintf(stderr, "chip_read: %s\n", err_msg(&err));
        return 1;
    }
    printf("package: %s/pkg (run `civreg chip emulate %s/pkg` for --reader)\n", dir, dir);
    fflush(stdout);
    for (int mode = 0; mode < (reader ? 2 : 1); mode++) {
        struct vchip *c = NULL;
        struct rd_pcsc *pc = NULL;
        struct rd_transport tr;
        char name[256] = "in-process virtual chip";
        snprintf(path, sizeof path, "%s/pkg", dir);
        if (mode == 0) {
            if (vchip_open(path, &c, &err) != 0)
                goto fail;
            rd_transport_vchip(&tr, c);
        } else {
            if (rd_pcsc_open(reader, 10, &pc, name, sizeof name, &err) != 0)
                goto fail;
            rd_transport_pcsc(&tr, pc);
        }
        t0 = now_s();
        n = 0;
        do {
            struct rd_options o = { .mrz = mrz, .trust = trust, .now = time(NULL) };
            struct chip_package files;
            json_t *rep = NULL;
            bool valid = false;
            if (rd_inspect(&tr, &o, &files, &rep, &valid, &err) != 0 || !valid)
                goto fail;
            chip_package_release(&files);
            json_decref(rep);
            if (c)
                vchip_reset(c);
            else { /* the next document: power the card down and up again */
                rd_pcsc_close(pc);
                pc = NULL;
                if (rd_pcsc_open(reader, 10, &pc, name, sizeof name, &err) != 0)
                    goto fail;
                rd_transport_pcsc(&tr, pc);
            }
            n++;
            t = now_s() - t0;
        } while (t < seconds);
        printf("BAC + read + passive + active authentication, %s: %d chips in %.2f s = %.1f "
               "chips/s (%.2f ms each)\n",
               name, n, t, n / t, 1e3 * t / n);
        vchip_free(c);
        rd_pcsc_close(pc);
        continue;
    fail:
        fprintf(stderr, "chip_read: %s\n", err_msg(&err));
        return 1;
    }
    pa_trust_free(trust);
    buf_release(&csca);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (reader == NULL && system(cmd) != 0)
        return 1;
    return 0;
}
