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

#define PASSPORT_STAFF                                                                            \
    (WEB_ROLE_ENROLMENT_OFFICER | WEB_ROLE_APPROVER | WEB_ROLE_ISSUANCE_OPERATOR |               \
     WEB_ROLE_AUDITOR)
/* A document's trace shows its holder's personal data: not for administrators. */
#define PASSPORT_TRACE (WEB_ROLE_AUDITOR | WEB_ROLE_REGISTRAR)

#define CIVREG_PASSPORT_ROUTES                                                                   \
    { "GET", "/api/v1/applications", PASSPORT_STAFF, WEB_API, web_api_applications_list,        \
      "Passport applications, newest first (?status=submitted is the approval queue)" },        \
    { "POST", "/api/v1/applications", WEB_ROLE_ENROLMENT_OFFICER, WEB_API,                      \
      web_api_application_enrol,                                                                \
      "Enrol ({uin, doc_type, kind, replaces, surname, given_names, photo, signature, "         \
      "contact}; images base64): evidence checks stored, refusals named" },                     \
    { "GET", "/api/v1/applications/{id}", PASSPORT_STAFF, WEB_API, web_api_application_show,    \
      "An application with its checks and document" },                                          \
    { "GET", "/api/v1/applications/{id}/{file}", PASSPORT_STAFF, WEB_API,                       \
      web_api_application_file,                                                                 \
      "datapage.pdf, photo, signature or chip.json of an application" },                        \
    { "POST", "/api/v1/applications/{id}/{action}",                                             \
      WEB_ROLE_APPROVER | WEB_ROLE_ISSUANCE_OPERATOR, WEB_API, web_api_application_action,      \
      "approve, reject {reason}, personalize, qc {pass, reason}, issue, collect" },             \
    { "GET", "/api/v1/documents/alerts", PASSPORT_STAFF, WEB_API, web_api_document_alerts,      \
      "Lost, stolen and revoked numbers, SLTD-style (?format=csv|json)" },                      \
    { "GET", "/api/v1/documents/{number}", PASSPORT_STAFF, WEB_API, web_api_document_show,      \
      "A document by number" },                                                                 \
    { "POST", "/api/v1/documents/{number}/status",                                              \
      WEB_ROLE_ENROLMENT_OFFICER | WEB_ROLE_APPROVER | WEB_ROLE_ADMIN, WEB_API,                 \
      web_api_document_status, "lost, stolen, revoked, cancelled, expired ({status, reason, "   \
      "evidence[]})" },                                                                         \
    { "GET", "/api/v1/documents/{number}/trace", PASSPORT_TRACE, WEB_API,                       \
      web_api_document_trace, "Provenance of a document number back to the scanned page" },     \
    { "GET", "/api/v1/booklets", PASSPORT_STAFF | WEB_ROLE_ADMIN, WEB_API,                      \
      web_api_booklets_report, "Booklet stock report" },                                        \
    { "POST", "/api/v1/booklets", WEB_ROLE_ISSUANCE_OPERATOR | WEB_ROLE_ADMIN, WEB_API,         \
      web_api_booklets_receive, "Receive a delivery ({doc_type, first, last, reference})" },    \
    { "POST", "/api/v1/booklets/{serial}/spoil", WEB_ROLE_ISSUANCE_OPERATOR | WEB_ROLE_ADMIN,   \
      WEB_API, web_api_booklet_spoil, "Record a spoiled booklet ({reason})" },                  \
    { "GET", "/passport", PASSPORT_STAFF, WEB_PAGE, web_handle_page, "Applications and queues", \
      "passport" },                                                                             \
    { "GET", "/passport/enrol", WEB_ROLE_ENROLMENT_OFFICER, WEB_PAGE, web_handle_page,          \
      "Enrolment with photo capture or upload", "enrol" },                                      \
    { "GET", "/passport/applications/{id}", PASSPORT_STAFF, WEB_PAGE, web_handle_page,          \
      "An application and its next step", "application" },                                      \
    { "GET", "/passport/stock", PASSPORT_STAFF | WEB_ROLE_ADMIN, WEB_PAGE, web_handle_page,     \
      "Booklet stock", "stock" },                                                               \
    { "GET", "/passport/documents", PASSPORT_STAFF, WEB_PAGE, web_handle_page,                  \
      "Documents and alert exports", "document" },                                              \
    { "GET", "/passport/documents/{number}", PASSPORT_STAFF, WEB_PAGE, web_handle_page,         \
      "A document and its status", "document" },                                                \
    { "GET", "/passport/documents/{number}/trace", PASSPORT_TRACE, WEB_PAGE, web_handle_page,   \
      "Trace of a document number", "doctrace" },

#else
#define CIVREG_PASSPORT_ROUTES
#endif

#endif
