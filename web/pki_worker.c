/* civreg web: the office PKI as the worker threads use it. Each worker opens
 * the data directory's PKI once, on its own SQLite connection (never a
 * second one), so a chip signed during personalization is recorded in the
 * office's transaction; the sealing key file is read only when a private
 * key is used. The CSCA certificates the public seal check trusts are
 * exported once for the whole server and kept, and exported again only when
 * pki_trust_generation says the CSCA or link certificates changed. */
#include "web_int.h"

#include <stdlib.h>
#include <string.h>

#ifdef CIVREG_HAVE_PASSPORT
#include <pthread.h>

#include "issuance/pki/pki.h"

#define TRUST_PEM_MAX ((size_t)4 << 20)

struct web_trust {
    pthread_mutex_t lock;
    struct buf pem;                  /* every CSCA and link certificate, PEM */
    char gen[PKI_TRUST_GEN_MAX];     /* pki_trust_generation when PEM was read */
    bool loaded;
};

int web_trust_new(struct web_trust **out, struct err *err)
{
    struct web_trust *t = calloc(1, sizeof *t);

    *out = NULL;
    if (t == NULL)
        return err_oom(err);
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        return err_set(err, "serve: cannot create a lock");
    }
    t->pem = (struct buf)BUF_INIT(TRUST_PEM_MAX);
    *out = t;
    return 0;
}

void web_trust_free(struct web_trust *t)
{
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->lock);
    buf_release(&t->pem);
    free(t);
}

struct pki *web_worker_pki(struct web_request *rq, struct err *err)
{
    struct web_worker *w = rq->w;

    if (w == NULL || w->db == NULL) {
        err_set(err, "the database is unavailable");
        return NULL;
    }
    if (w->pki == NULL && pki_open_db(w->db, rq->srv->dd->dir, &w->pki, err) != 0)
        return NULL;
    return w->pki;
}

void web_worker_pki_close(struct web_worker *w)
{
    pki_close(w->pki);
    w->pki = NULL;
}

int web_trust_anchors(struct web_request *rq, time_t now, struct buf *out, struct err *err)
{
    struct web_trust *t = rq->srv->trust;
    char gen[PKI_TRUST_GEN_MAX];
    struct pki *p;
    int rc = -1;

    if (rq->w == NULL || rq->w->db == NULL)
        return err_set(err, "the database is unavailable");
    /* one indexed count per check; the certificates are parsed only when
     * they changed */
    if (pki_trust_generation(rq->w->db, gen, err) != 0)
        return -1;
    pthread_mutex_lock(&t->lock);
    if (!t->loaded || strcmp(gen, t->gen) != 0) {
        if ((p = web_worker_pki(rq, err)) == NULL)
            goto out;
        buf_reset(&t->pem);
        t->loaded = false;
        if (pki_export(p, PKI_EXPORT_CSCA, false, now, &t->pem, err) != 0)
            goto out;
        memcpy(t->gen, gen, sizeof gen);
        t->loaded = true;
    }
    if (buf_append(out, t->pem.data, t->pem.len) != 0) {
        err_oom(err);
        goto out;
    }
    rc = 0;
out:
    pthread_mutex_unlock(&t->lock);
    return rc;
}

#else /* without the issuance module there is no PKI to serve */

int web_trust_new(struct web_trust **out, struct err *err)
{
    (void)err;
    *out = NULL;
    return 0;
}

void web_trust_free(struct web_trust *t)
{
    (void)t;
}

void web_worker_pki_close(struct web_worker *w)
{
    (void)w;
}

#endif
