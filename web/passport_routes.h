/* civreg web: the passport office's routes and handlers (api_passport.c),
 * spliced into the route table of routes.c with CIVREG_PASSPORT_ROUTES.
 * Roles follow the office's duties: enrolment officers enrol and take loss
 * reports, approvers decide, issuance operators personalize, check, issue
 * and keep the stock, auditors read and trace. */
#ifndef CIVREG_WEB_PASSPORT_ROUTES_H
#define CIVREG_WEB_PASSPORT_ROUTES_H

#if defined(CIVREG_HAVE_REGISTRY) && defined(CIVREG_HAVE_PASSPORT)

struct web_request;
int web_api_application_enrol(struct web_request *rq);
int web_api_applications_list(struct web_request *rq);
int web_api_application_show(struct web_request *rq);
int web_api_application_action(struct web_request *rq);
int web_api_application_file(struct web_request *rq);
int web_api_document_show(struct web_request *rq);
int web_api_document_status(struct web_request *rq);
int web_api_document_trace(struct web_request *rq);
int web_api_document_alerts(struct web_request *rq);
int web_api_booklets_report(struct web_request *rq);
int web_api_booklets_receive(struct web_request *rq);
int web_api_booklet_spoil(struct web_request *rq);

#define CIVREG_PASSPORT_ROUTES                                                                   \
    { "GET", "/api/v1/applications", "application.read", WEB_API, web_api_applications_list,        \
      "Passport applications, newest first (?status=submitted is the approval queue)" },        \
    { "POST", "/api/v1/applications", "application.enrol", WEB_API,                      \
      web_api_application_enrol,                                                                \
      "Enrol ({uin, doc_type, kind, replaces, surname, given_names, photo, signature, "         \
      "contact}; images base64): evidence checks stored, refusals named" },                     \
    { "GET", "/api/v1/applications/{id}", "application.read", WEB_API, web_api_application_show,    \
      "An application with its checks and document" },                                          \
    { "GET", "/api/v1/applications/{id}/{file}", "application.read", WEB_API,                       \
      web_api_application_file,                                                                 \
      "datapage.pdf, photo, signature or chip.json of an application" },                        \
    { "POST", "/api/v1/applications/{id}/{action}",                                             \
      "application.advance", WEB_API, web_api_application_action,      \
      "approve, reject {reason}, personalize, qc {pass, reason}, issue, collect" },             \
    { "GET", "/api/v1/documents/alerts", "document.read", WEB_API, web_api_document_alerts,      \
      "Lost, stolen and revoked numbers, SLTD-style (?format=csv|json)" },                      \
    { "GET", "/api/v1/documents/{number}", "document.read", WEB_API, web_api_document_show,      \
      "A document by number" },                                                                 \
    { "POST", "/api/v1/documents/{number}/status",                                              \
      "document.status", WEB_API,                 \
      web_api_document_status, "lost, stolen, revoked, cancelled, expired ({status, reason, "   \
      "evidence[]})" },                                                                         \
    { "GET", "/api/v1/documents/{number}/trace", "audit.trace", WEB_API,                       \
      web_api_document_trace, "Provenance of a document number back to the scanned page" },     \
    { "GET", "/api/v1/booklets", "booklet.read", WEB_API,                      \
      web_api_booklets_report, "Booklet stock report" },                                        \
    { "POST", "/api/v1/booklets", "booklet.manage", WEB_API,         \
      web_api_booklets_receive, "Receive a delivery ({doc_type, first, last, reference})" },    \
    { "POST", "/api/v1/booklets/{serial}/spoil", "booklet.manage",   \
      WEB_API, web_api_booklet_spoil, "Record a spoiled booklet ({reason})" },                  \
    { "GET", "/passport", "application.read", WEB_PAGE, web_handle_page, "Applications and queues", \
      "passport" },                                                                             \
    { "GET", "/passport/enrol", "application.enrol", WEB_PAGE, web_handle_page,          \
      "Enrolment with photo capture or upload", "enrol" },                                      \
    { "GET", "/passport/applications/{id}", "application.read", WEB_PAGE, web_handle_page,          \
      "An application and its next step", "application" },                                      \
    { "GET", "/passport/stock", "booklet.read", WEB_PAGE, web_handle_page,     \
      "Booklet stock", "stock" },                                                               \
    { "GET", "/passport/documents", "document.read", WEB_PAGE, web_handle_page,                  \
      "Documents and alert exports", "document" },                                              \
    { "GET", "/passport/documents/{number}", "document.read", WEB_PAGE, web_handle_page,         \
      "A document and its status", "document" },                                                \
    { "GET", "/passport/documents/{number}/trace", "audit.trace", WEB_PAGE, web_handle_page,   \
      "Trace of a document number", "doctrace" },

#else
#define CIVREG_PASSPORT_ROUTES
#endif

#endif
