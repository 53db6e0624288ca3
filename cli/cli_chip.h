/* civreg command line: the chip family's options, declared once for
 * personalize and verify (cmd_chip.c) and read and emulate
 * (cmd_chip_reader.c). */
#ifndef CIVREG_CLI_CHIP_H
#define CIVREG_CLI_CHIP_H

#include <stdbool.h>

#include "cli.h"

struct chip_opts {
    struct cli_common_opts common;
    const char *out, *photo, *mrz_json, *mrz_lines, *dg11, *dg12, *aa, *digest, *ds;
    bool lso_v1, pace, ca, pace_im;
    const char *ca_curve;
    struct cli_list csca, crl;
    const char *mrz, *mrz_file;
    const char *can, *reader, *host; /* read, emulate */
    long wait, chunk, port;
    bool extended, bac, verbose;
};

extern const struct cli_family chip_family;

/* The largest certificate, master list or CRL file the chip commands read. */
#define TRUST_FILE_MAX (64 << 20)

struct pa_trust;
struct buf;
/* The trust store of O's --csca and --crl files into *TRUST (new; free with
 * pa_trust_free, also on failure), and O's printed MRZ (--mrz, or the
 * contents of --mrz-file read into MRZB) into *MRZ (NULL when neither is
 * given). *NCSCA: how many --csca files were added. */
int chip_trust_load(const struct chip_opts *o, struct pa_trust **trust, int *ncsca,
                    struct buf *mrzb, const char **mrz, struct err *err)
    __attribute__((warn_unused_result));

#endif
