/* civreg web: the OpenAPI 3 document, generated from the route table so it
 * cannot drift from what the server does. Each operation names the roles
 * that may call it (x-civreg-roles) and the answers the dispatcher gives. */
#include <ctype.h>
#include <string.h>

#include "civreg_version.h"
#include "web_int.h"

static json_t *error_response(const char *description)
{
    return json_pack("{s:s,s:{s:{s:{s:s}}}}", "description", description, "content",
                     "application/json", "schema", "$ref", "#/components/schemas/Error");
}

static json_t *operation(const struct web_route *r)
{
    json_t *op, *params, *roles, *resp;
    const char *p;
    bool bad = false; /* a member that could not be added: no partial operation */

    op = json_pack("{s:s}", "summary", r->summary ? r->summary : "");
    params = json_array();
    roles = json_array();
    resp = json_object();
    if (op == NULL || params == NULL || roles == NULL || resp == NULL)
        goto fail;
    /* Path parameters: every {name} segment. */
    for (p = strchr(r->path, '{'); p != NULL; p = strchr(p + 1, '{')) {
        const char *close = strchr(p, '}');
        if (close == NULL)
            break;
        bad |= json_array_append_new(params, json_pack("{s:s%,s:s,s:b,s:{s:s}}", "name", p + 1,
                                                       (size_t)(close - p - 1), "in", "path",
                                                       "required", 1, "schema", "type", "string")) != 0;
    }
    if (r->action == NULL) {
        bad |= json_array_append_new(roles, json_string("public")) != 0;
        bad |= json_object_set_new(op, "security", json_array()) != 0;
    } else {
        bad |= json_object_set_new(op, "security",
                                   web_method_changes_state(r->method)
                                       ? json_pack("[{s:[],s:[]}]", "session", "csrf")
                                       : json_pack("[{s:[]}]", "session")) != 0;
        for (unsigned i = 0; i < 7; i++)
            if (web_route_roles(r) & (1u << i))
                bad |= json_array_append_new(roles, json_string(web_role_names[i])) != 0;
        bad |= json_object_set_new(resp, "401", error_response("not signed in")) != 0;
        bad |= json_object_set_new(resp, "403", error_response("role missing, or CSRF token missing "
                                                               "or wrong")) != 0;
    }
    if (strstr(r->path, "/evidence/{hash}") != NULL) {
        /* Stored files leave only through the object that lists them. */
        bad |= json_object_set_new(resp, "200",
                                   json_pack("{s:s,s:{s:{s:{s:s,s:s}},s:{s:{s:s,s:s}},s:{s:{s:s,s:s}}}}",
                                             "description", "the file's bytes", "content", "image/png",
                                             "schema", "type", "string", "format", "binary",
                                             "image/jpeg", "schema", "type", "string", "format",
                                             "binary", "application/octet-stream", "schema", "type",
                                             "string", "format", "binary")) != 0;
        bad |= json_object_set_new(resp, "404", error_response("no such record, or the record does "
                                                               "not list this file")) != 0;
    } else {
        bad |= json_object_set_new(resp, "200", json_pack("{s:s,s:{s:{s:{}}}}", "description",
                                                          "success", "content", "application/json",
                                                          "schema")) != 0;
    }
    if (r->flags & WEB_RAW_BODY) {
        json_t *content = json_object();
        const char *types[] = { "image/png", "image/jpeg", "image/tiff", "application/pdf" };
        for (size_t i = 0; content != NULL && i < 4; i++)
            bad |= json_object_set_new(content, types[i],
                                       json_pack("{s:{s:s,s:s}}", "schema", "type", "string", "format",
                                                 "binary")) != 0;
        bad |= json_object_set_new(op, "requestBody",
                                   json_pack("{s:b,s:o}", "required", 1, "content", content)) != 0;
        bad |= json_object_set_new(resp, "413", error_response("body too large")) != 0;
        bad |= json_object_set_new(resp, "415", error_response("unsupported media type")) != 0;
    } else if (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
               strcmp(r->method, "PATCH") == 0) {
        bad |= json_object_set_new(op, "requestBody",
                                   json_pack("{s:b,s:{s:{s:{s:s}}}}", "required", 1, "content",
                                             "application/json", "schema", "type", "object")) != 0;
        bad |= json_object_set_new(resp, "400", error_response("invalid body")) != 0;
        bad |= json_object_set_new(resp, "413", error_response("body too large")) != 0;
        bad |= json_object_set_new(resp, "415", error_response("body is not application/json")) != 0;
    }
    if (strncmp(r->path, "/api/v1/national/", 17) == 0) {
        /* through the national tier (web/api_national.c) */
        bad |= json_object_set_new(resp, "502", error_response("the national tier cannot be "
                                                               "reached or refused")) != 0;
        bad |= json_object_set_new(resp, "503", error_response("no national tier configured")) != 0;
        bad |= json_object_set_new(resp, "504", error_response("the national tier did not answer "
                                                               "in time")) != 0;
    }
    if (r->handler == web_handle_session_create)
        bad |= json_object_set_new(resp, "429",
                                   error_response("too many failed sign-ins (Retry-After)")) != 0;
    bad |= json_object_set_new(op, "parameters", params) != 0;
    bad |= json_object_set_new(op, "x-civreg-roles", roles) != 0;
    if (r->action != NULL)
        bad |= json_object_set_new(op, "x-civreg-action", json_string(r->action)) != 0;
    bad |= json_object_set_new(op, "responses", resp) != 0;
    if (bad) {
        json_decref(op); /* params, roles and resp were handed to op (or freed) above */
        return NULL;
    }
    return op;
fail:
    json_decref(op);
    json_decref(params);
    json_decref(roles);
    json_decref(resp);
    return NULL;
}

json_t *web_openapi(const struct web_route *table)
{
    json_t *doc, *paths;

    json_t *schemes = json_pack("{s:{s:s,s:s,s:s},s:{s:s,s:s,s:s}}", "session", "type",
                                "apiKey", "in", "cookie", "name", "civreg_session", "csrf",
                                "type", "apiKey", "in", "header", "name", "X-CSRF-Token");
    json_t *errschema = json_pack(
        "{s:s,s:{s:{s:s,s:{s:{s:s},s:{s:s}}}}}", "type", "object", "properties", "error",
        "type", "object", "properties", "code", "type", "string", "message", "type", "string");

    doc = json_pack("{s:s,s:{s:s,s:s,s:s},s:{},s:{s:o,s:{s:o}},s:[{s:[],s:[]}]}", "openapi",
                    "3.0.3", "info", "title", "civreg API", "version", CIVREG_VERSION,
                    "description",
                    "JSON API of a civreg district office. Errors are "
                    "{\"error\":{\"code\",\"message\"}}. State-changing requests carry "
                    "X-CSRF-Token. Stored files (scans, photos) are served only through the "
                    "object that lists them, under that object's access rule; answers that "
                    "carry a birth record in full log a signed record.view event first.",
                    "paths", "components", "securitySchemes", schemes, "schemas", "Error",
                    errschema, "security", "session", "csrf");
    if (doc == NULL)
        return NULL;
    paths = json_object_get(doc, "paths");
    for (const struct web_route *r = table; r->method != NULL; r++) {
        json_t *item, *op;
        char m[8];
        size_t i;

        if (strncmp(r->path, "/api/v1/", 8) != 0)
            continue;
        /* OpenAPI paths are relative to the server, which is /api/v1. */
        item = json_object_get(paths, r->path + 7);
        if (item == NULL) {
            item = json_object();
            if (item == NULL || json_object_set_new(paths, r->path + 7, item) != 0)
                goto fail;
        }
        for (i = 0; r->method[i] != '\0' && i < sizeof m - 1; i++)
            m[i] = (char)tolower((unsigned char)r->method[i]);
        m[i] = '\0';
        op = operation(r);
        if (op == NULL || json_object_set_new(item, m, op) != 0)
            goto fail;
    }
    if (json_object_set_new(doc, "servers", json_pack("[{s:s}]", "url", "/api/v1")) != 0)
        goto fail;
    return doc;
fail:
    json_decref(doc);
    return NULL;
}
