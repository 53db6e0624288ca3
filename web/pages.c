/* civreg web: the HTML shell every page shares. The server writes only the
 * shell (language, CSRF token, asset paths, which screen); the screens are
 * JS modules that build the DOM with textContent, never innerHTML, so no
 * value becomes markup. Every value placed in the shell is escaped. */
#include <string.h>

#include "web_int.h"

extern const struct embedded_file web_template_files[];
extern const size_t web_template_files_count;

struct slot {
    const char *name, *value;
};

/* Copy TEMPLATE into OUT replacing each {{name}} by its escaped value. An
 * unknown name is a bug in the template: refused, not left in the page. */
static int fill(const char *tpl, size_t len, const struct slot *slots, size_t nslots,
                struct buf *out)
{
    const char *p = tpl, *end = tpl + len;

    while (p < end) {
        const char *open = strstr(p, "{{"), *close;
        size_t i;
        if (open == NULL || open >= end)
            return buf_append(out, p, (size_t)(end - p));
        close = strstr(open, "}}");
        if (close == NULL || buf_append(out, p, (size_t)(open - p)) != 0)
            return -1;
        for (i = 0; i < nslots; i++)
            if (strlen(slots[i].name) == (size_t)(close - open - 2) &&
                memcmp(slots[i].name, open + 2, (size_t)(close - open - 2)) == 0)
                break;
        if (i == nslots ||
            web_html_escape(out, slots[i].value, strlen(slots[i].value)) != 0)
            return -1;
        p = close + 2;
    }
    return 0;
}

int web_render_shell(struct web_request *rq, const char *page)
{
    return web_render_shell_status(rq, page, 200);
}

int web_render_shell_status(struct web_request *rq, const char *page, int status)
{
    const struct embedded_file *tpl =
        embedded_find(web_template_files, web_template_files_count, "shell.html");
    struct buf out = BUF_INIT(256 * 1024);
    char lang[8] = "en", assets[32];
    int rc;

    if (rq->session != NULL)
        web_session_lang(rq->srv->sessions, rq->session, lang);
    (void)snprintf(assets, sizeof assets, "/static/%s", rq->srv->asset_fp);
    const struct slot slots[] = {
        { "lang", lang },
        { "assets", assets },
        { "page", page },
        { "csrf", rq->session ? rq->session->csrf : "" },
        { "user", rq->session ? rq->session->username : "" },
    };
    if (tpl == NULL || fill((const char *)tpl->data, tpl->len, slots,
                            sizeof slots / sizeof slots[0], &out) != 0) {
        buf_release(&out);
        return web_send_error(rq->conn, 500, "internal", "the page could not be built");
    }
    rc = web_send_html(rq->conn, status, (const char *)out.data, out.len, NULL);
    buf_release(&out);
    return rc;
}
