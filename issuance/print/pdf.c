/* civreg issuance/print: the libharu set-up every printed page shares. */
#define _GNU_SOURCE /* memfd_create */
#include "print_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/embed.h"

/* Fonts embedded at build time (issuance/print/CMakeLists.txt): OCR-B
 * converted from Debian's CFF OpenType to TrueType (libharu reads TrueType
 * only), and DejaVu Sans Condensed for the visual zone's national
 * characters. */
extern const struct embedded_file issuance_font_files[];
extern const size_t issuance_font_files_count;

void print_on_error(HPDF_STATUS error, HPDF_STATUS detail, void *user)
{
    struct print_status *st = user;

    if (st->error == 0) {
        st->error = error;
        st->detail = detail;
    }
}

/* The settings of a document just begun (HPDF_New or HPDF_NewDoc). */
static void doc_begin(HPDF_Doc pdf, const char *title)
{
    HPDF_SetCompressionMode(pdf, HPDF_COMP_ALL);
    HPDF_SetInfoAttr(pdf, HPDF_INFO_CREATOR, "civreg");
    HPDF_SetInfoAttr(pdf, HPDF_INFO_TITLE, title);
}

HPDF_Doc print_doc_new(struct print_status *st, const char *title)
{
    HPDF_Doc pdf = HPDF_New(print_on_error, st);

    if (pdf == NULL)
        return NULL;
    HPDF_UseUTFEncodings(pdf);
    doc_begin(pdf, title);
    return pdf;
}

/* ---- documents kept with their fonts parsed ---------------------------- */

/* libharu's HPDF_NewDoc frees a document's objects but keeps the font
 * definitions it has parsed (HPDF_FreeDoc only resets the glyphs each
 * uses, so every document still embeds the subset it draws with), and the
 * encoders. Idle documents wait here for the next page, whatever thread
 * renders it; a page takes one for itself alone. */
#define DOC_POOL_MAX 4
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct print_doc *pool[DOC_POOL_MAX];
static size_t pool_n;

struct print_doc *print_doc_take(const char *title)
{
    struct print_doc *d = NULL;

    pthread_mutex_lock(&pool_lock);
    if (pool_n > 0)
        d = pool[--pool_n];
    pthread_mutex_unlock(&pool_lock);
    if (d != NULL) {
        memset(&d->st, 0, sizeof d->st);
        if (HPDF_NewDoc(d->pdf) != HPDF_OK || d->st.error != 0) {
            print_doc_give(d, false);
            return NULL;
        }
        doc_begin(d->pdf, title);
        return d;
    }
    d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    d->pdf = print_doc_new(&d->st, title);
    if (d->pdf == NULL) {
        free(d);
        return NULL;
    }
    return d;
}

void print_doc_give(struct print_doc *d, bool reuse)
{
    if (d == NULL)
        return;
    if (reuse && d->st.error == 0) {
        pthread_mutex_lock(&pool_lock);
        if (pool_n < DOC_POOL_MAX) {
            pool[pool_n++] = d;
            d = NULL;
        }
        pthread_mutex_unlock(&pool_lock);
        if (d == NULL)
            return;
    }
    HPDF_Free(d->pdf);
    free(d);
}

#define PRINT_RENDER_STACK (8u << 20)

int print_on_render_thread(void *(*fn)(void *), void *arg, const char *what, struct err *err)
{
    pthread_attr_t attr;
    pthread_t t;
    int e;

    if (pthread_attr_init(&attr) != 0)
        return err_set(err, "%s: cannot prepare the rendering thread", what);
    e = pthread_attr_setstacksize(&attr, PRINT_RENDER_STACK);
    if (e == 0)
        e = pthread_create(&t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    if (e != 0)
        return err_set(err, "%s: cannot start the rendering thread: %s", what, strerror(e));
    pthread_join(t, NULL);
    return 0;
}

int print_failed(const struct print_status *st, const char *what, struct err *err)
{
    if (st->error == 0)
        return 0;
    err_set(err, "%s: libharu error 0x%04X (detail %u)", what, (unsigned)st->error,
            (unsigned)st->detail);
    return 1;
}

int print_save(HPDF_Doc pdf, const struct print_status *st, const char *what, struct buf *out,
               struct err *err)
{
    unsigned char chunk[8192];
    size_t start = out->len;
    HPDF_UINT32 total;
    char step[64];

    (void)snprintf(step, sizeof step, "%s: saving", what);
    if (HPDF_SaveToStream(pdf) != HPDF_OK || print_failed(st, step, err)) {
        if (st->error == 0)
            err_set(err, "%s: saving the PDF failed", what);
        return -1;
    }
    total = HPDF_GetStreamSize(pdf);
    if (total == 0)
        return err_set(err, "%s: libharu produced an empty PDF", what);
    HPDF_ResetStream(pdf);
    for (HPDF_UINT32 got = 0; got < total;) {
        HPDF_UINT32 n = sizeof chunk;
        if (n > total - got)
            n = total - got;
        if (HPDF_ReadFromStream(pdf, chunk, &n) != HPDF_OK || n == 0) {
            err_set(err, "%s: reading the PDF back from libharu failed", what);
            goto fail;
        }
        if (buf_append(out, chunk, n) != 0) {
            err_set(err, "%s: PDF larger than the output buffer allows", what);
            goto fail;
        }
        got += n;
    }
    return 0;
fail:
    if (out->data != NULL && out->len > start)
        out->len = start; /* nothing appended on failure */
    return -1;
}

int print_save_file(HPDF_Doc pdf, const struct print_status *st, const char *what,
                    const char *path, struct err *err)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    char step[64];
    int fd, rc = -1;

    if (tmp == NULL)
        return err_set(err, "%s: out of memory", what);
    (void)snprintf(tmp, plen + 16, "%s.tmp-XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        err_set(err, "%s: cannot write %s: %s", what, path, strerror(errno));
        free(tmp);
        return -1;
    }
    close(fd);
    (void)snprintf(step, sizeof step, "%s: writing", what);
    if (HPDF_SaveToFile(pdf, tmp) != HPDF_OK || print_failed(st, step, err)) {
        if (st->error == 0)
            err_set(err, "%s: cannot write %s", what, path);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        err_set(err, "%s: cannot write %s: %s", what, path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

void print_text(HPDF_Page page, HPDF_Font font, double size, double x, double y,
                const char *text, int centred)
{
    HPDF_Page_BeginText(page);
    HPDF_Page_SetFontAndSize(page, font, (HPDF_REAL)size);
    if (centred)
        x -= HPDF_Page_TextWidth(page, text) / 2;
    HPDF_Page_TextOut(page, (HPDF_REAL)x, (HPDF_REAL)y, text);
    HPDF_Page_EndText(page);
}

/* ---- fonts through anonymous memory files ------------------------------ */

/* libharu 2.3 loads TrueType fonts only from a file name. The embedded
 * fonts are copied once per process into memfd files and handed over as
 * /proc/self/fd/N, so no font file is ever written to disk; every open of
 * that path starts a new file description at offset 0, so concurrent
 * documents do not disturb each other. */
static pthread_once_t fonts_once = PTHREAD_ONCE_INIT;
static int font_fds[2] = { -1, -1 };
static char fonts_error[160];

static int font_memfd(const char *name)
{
    const struct embedded_file *f =
        embedded_find(issuance_font_files, issuance_font_files_count, name);
    size_t off = 0;
    int fd;

    if (f == NULL) {
        /* error messages about the built-in fonts (short constant names): shortening the
         * system's strerror text, if ever, loses nothing that matters */
        (void)snprintf(fonts_error, sizeof fonts_error, "font %s missing from the binary", name);
        return -1;
    }
    fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) {
        (void)snprintf(fonts_error, sizeof fonts_error, "memfd_create for font %s: %s", name,
                 strerror(errno));
        return -1;
    }
    while (off < f->len) {
        ssize_t n = write(fd, f->data + off, f->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            (void)snprintf(fonts_error, sizeof fonts_error, "writing font %s to memory: %s", name,
                     n < 0 ? strerror(errno) : "short write");
            close(fd);
            return -1;
        }
        off += (size_t)n;
    }
    return fd;
}

static void fonts_init(void)
{
    font_fds[0] = font_memfd(PRINT_FONT_OCRB);
    if (font_fds[0] >= 0)
        font_fds[1] = font_memfd(PRINT_FONT_VIZ);
}

int print_font_embedded(struct print_doc *d, const char *name, const char *encoding,
                        HPDF_Font *out, struct err *err)
{
    char path[64], step[96];
    const char *loaded;
    int fd, i;

    pthread_once(&fonts_once, fonts_init);
    if (strcmp(name, PRINT_FONT_OCRB) == 0)
        i = 0;
    else if (strcmp(name, PRINT_FONT_VIZ) == 0)
        i = 1;
    else
        return err_set(err, "font %s is not carried in the binary", name);
    fd = font_fds[i];
    if (fd < 0)
        return err_set(err, "fonts: %s", fonts_error);
    (void)snprintf(step, sizeof step, "loading %s", name);
    loaded = d->fonts[i];
    if (loaded == NULL) {
        /* libharu embeds (and subsets) the TrueType fonts with EMBEDDING
         * true: a reader needs no font of its own. */
        (void)snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        loaded = HPDF_LoadTTFontFromFile(d->pdf, path, HPDF_TRUE);
        if (loaded == NULL || print_failed(&d->st, step, err))
            return loaded == NULL && d->st.error == 0 ? err_set(err, "%s failed", step) : -1;
        d->fonts[i] = loaded; /* the font definition's own name: kept with it */
    }
    *out = HPDF_GetFont(d->pdf, loaded, encoding);
    if (*out == NULL || print_failed(&d->st, step, err))
        return *out == NULL && d->st.error == 0 ? err_set(err, "%s failed", step) : -1;
    return 0;
}
