/* Fuzz: the web dispatcher's pure parts on hostile request data: route
 * matching of METHOD and PATH against the real table, the access decision,
 * form-field and cookie extraction, and HTML escaping (whose output must
 * contain no raw markup characters), the client address from REST as an
 * X-Forwarded-For header (always an address, never text a client chose)
 * and REST as a trusted_proxies list. Input: "METHOD\nPATH\nREST". */
#include <arpa/inet.h>
#include <string.h>

#include "fuzz.h"
#include "web/web_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[4096], allow[64], field[256];
    const char *method, *path, *rest, *why;
    struct web_request rq;
    const struct web_route *r;
    struct buf esc = BUF_INIT(64 * 1024);
    char *nl;
    int st = 0;

    if (size >= sizeof buf)
        size = sizeof buf - 1;
    memcpy(buf, data, size);
    buf[size] = '\0';
    method = buf;
    nl = strchr(buf, '\n');
    if (nl == NULL)
        return 0;
    *nl = '\0';
    path = nl + 1;
    nl = strchr(nl + 1, '\n');
    rest = "";
    if (nl != NULL) {
        *nl = '\0';
        rest = nl + 1;
    }
    memset(&rq, 0, sizeof rq);
    r = web_route_match(web_routes, method, path, &rq, &st, allow, sizeof allow);
    if (r != NULL) {
        for (size_t i = 0; i < rq.nparams; i++)
            if (rq.params[i].p < path || rq.params[i].p + rq.params[i].len > path + strlen(path))
                __builtin_trap();
        for (unsigned roles = 0; roles <= WEB_ROLES_ALL; roles += 17) {
            int a = web_access_check(r, method, roles != 0, roles, "token", rest, &why);
            /* Signed out, only public routes may pass. */
            if (roles == 0 && r->action != NULL && a == 0)
                __builtin_trap();
            /* A forged token never passes a state-changing route. */
            if (a == 0 && roles != 0 && web_method_changes_state(method) &&
                r->action != NULL && !(r->flags & WEB_NO_CSRF) && strcmp(rest, "token") != 0)
                __builtin_trap();
        }
    } else if (st != 404 && st != 405) {
        __builtin_trap();
    }
    (void)web_form_field(rest, strlen(rest), "csrf_token", field, sizeof field);
    if (web_html_escape(&esc, rest, strlen(rest)) == 0 &&
        (memchr(esc.data ? (const char *)esc.data : "", '<', esc.len) != NULL ||
         memchr(esc.data ? (const char *)esc.data : "", '"', esc.len) != NULL))
        __builtin_trap();
    buf_release(&esc);
    {
        struct web_addrset trusted, any;
        struct err err = ERR_INIT;
        char client[WEB_ADDR_MAX];
        unsigned char bin[16];
        if (web_addrset_parse("127.0.0.1, 10.0.0.0/8, ::1", &trusted, &err) != 0)
            __builtin_trap();
        web_client_addr_resolve(&trusted, "127.0.0.1", rest, client);
        if (memchr(client, '\0', sizeof client) == NULL ||
            (inet_pton(AF_INET, client, bin) != 1 && inet_pton(AF_INET6, client, bin) != 1))
            __builtin_trap();
        web_client_addr_resolve(&trusted, "192.0.2.1", rest, client);
        if (strcmp(client, "192.0.2.1") != 0) /* untrusted peer: header ignored */
            __builtin_trap();
        if (web_addrset_parse(rest, &any, &err) == 0 && any.n > WEB_ADDRSET_MAX)
            __builtin_trap();
    }
    return 0;
}
