/* civreg issuance/reader: PC/SC transport (pcsc-lite): find a reader with a
 * card, connect (T=1 or T=0), transmit APDUs. */
#include <PCSC/winscard.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reader.h"
#include "reader_int.h"

struct rd_pcsc {
    SCARDCONTEXT ctx;
    SCARDHANDLE card;
    DWORD proto;
    unsigned char rbuf[RESP_MAX]; /* the last response */
};

static int pcsc_err(struct err *err, const char *what, LONG r)
{
    return err_set(err, "pcsc: %s: %s (0x%08lX)", what, pcsc_stringify_error(r),
                   (unsigned long)r);
}

int rd_pcsc_open(const char *reader, int wait_s, struct rd_pcsc **out, char *name,
                 size_t name_size, struct err *err)
{
    struct rd_pcsc *p = calloc(1, sizeof *p);
    time_t until = time(NULL) + wait_s;
    char *list = NULL;
    LONG r;

    *out = NULL;
    if (p == NULL)
        return err_set(err, "pcsc: out of memory");
    r = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->ctx);
    if (r != SCARD_S_SUCCESS) {
        free(p);
        return pcsc_err(err, "no PC/SC service (is pcscd running?)", r);
    }
    for (;;) {
        DWORD len = 0;
        bool any_reader = false;
        free(list);
        list = NULL;
        r = SCardListReaders(p->ctx, NULL, NULL, &len);
        if (r == SCARD_S_SUCCESS && len > 0 && len < 65536 && (list = calloc(1, len + 1)) &&
            (r = SCardListReaders(p->ctx, NULL, list, &len)) == SCARD_S_SUCCESS) {
            for (char *rn = list; *rn; rn += strlen(rn) + 1) {
                if (reader && strstr(rn, reader) == NULL)
                    continue;
                any_reader = true;
                r = SCardConnect(p->ctx, rn, SCARD_SHARE_SHARED,
                                 SCARD_PROTOCOL_T1 | SCARD_PROTOCOL_T0, &p->card, &p->proto);
                if (r == SCARD_S_SUCCESS) {
                    /* the name is only shown; a very long one is shortened */
                    (void)snprintf(name, name_size, "%s", rn);
                    free(list);
                    *out = p;
                    return 0;
                }
            }
        }
        if (time(NULL) >= until) {
            free(list);
            SCardReleaseContext(p->ctx);
            free(p);
            if (reader && !any_reader)
                return err_set(err, "pcsc: no reader named like '%s'", reader);
            return err_set(err, "pcsc: no card in %s within %d s",
                           reader ? reader : "any reader", wait_s);
        }
        {
            struct timespec ts = { 0, 100 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
}

void rd_pcsc_close(struct rd_pcsc *p)
{
    if (p == NULL)
        return;
    SCardDisconnect(p->card, SCARD_RESET_CARD);
    SCardReleaseContext(p->ctx);
    free(p);
}

static int pcsc_transmit(void *ctx, const unsigned char *cmd, size_t len, struct buf *resp,
                         struct err *err)
{
    struct rd_pcsc *p = ctx;
    DWORD rl = sizeof p->rbuf;
    const SCARD_IO_REQUEST *pci = p->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
    LONG r = SCardTransmit(p->card, pci, cmd, (DWORD)len, NULL, p->rbuf, &rl);

    if (r != SCARD_S_SUCCESS)
        return pcsc_err(err, "transmit", r);
    buf_reset(resp);
    if (rl < 2 || buf_append(resp, p->rbuf, rl) != 0)
        return err_set(err, "pcsc: response of %lu bytes", (unsigned long)rl);
    return 0;
}

void rd_transport_pcsc(struct rd_transport *t, struct rd_pcsc *p)
{
    t->transmit = pcsc_transmit;
    t->ctx = p;
}
