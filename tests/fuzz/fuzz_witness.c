/* Fuzz: the witness file keys/tree-head.json that `audit verify` compares
 * the log with. The input is written to a file and read back with
 * json_parse_file (capped, depth-bounded) as registry/audit.c does, then
 * its fields are rebuilt into the signed tree head body the signature
 * covers, as the audit does (reg_tree_head_body_of: v1, or v2 when the
 * witness names previous_size). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "fuzz.h"
#include "registry/registry_int.h"

static char path[64];

static void remove_file(void)
{
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf body = BUF_INIT(4096);
    json_t *w = NULL;
    FILE *f;

    if (path[0] == '\0') {
        int fd;
        snprintf(path, sizeof path, "/tmp/civreg-fuzz-witness-XXXXXX");
        fd = mkstemp(path);
        if (fd < 0)
            abort();
        close(fd);
        atexit(remove_file);
    }
    f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    if (json_parse_file(path, 64 << 10, &w, NULL) != 0) {
        if (w != NULL)
            __builtin_trap();
        return 0;
    }
    if (size > (64 << 10))
        __builtin_trap(); /* over the cap yet accepted */
    if (json_is_integer(json_object_get(w, "tree_size")))
        (void)!reg_tree_head_body_of(w, NULL, &body, NULL);
    json_decref(w);
    buf_release(&body);
    return 0;
}
