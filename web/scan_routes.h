/* civreg web: the digitization routes and handlers (api_scan.c), spliced
 * into the route table of routes.c with CIVREG_SCAN_ROUTES. Clerks upload
 * and key; registrars and auditors read the volumes and pages too. */
#ifndef CIVREG_WEB_SCAN_ROUTES_H
#define CIVREG_WEB_SCAN_ROUTES_H

#if defined(CIVREG_HAVE_REGISTRY) && defined(CIVREG_HAVE_SCANNER)

struct web_request;
int web_api_scan_batch_create(struct web_request *rq);
int web_api_scan_batch_file(struct web_request *rq);
int web_api_scan_batch_import(struct web_request *rq);
int web_api_scan_volumes(struct web_request *rq);
int web_api_scan_volume_pages(struct web_request *rq);
int web_api_scan_page(struct web_request *rq);
int web_api_scan_page_image(struct web_request *rq);
int web_api_volume_progress(struct web_request *rq);
int web_api_separator_preview(struct web_request *rq);
int web_api_separator_print(struct web_request *rq);

/* Separator sheets as a PDF need issuance's print module (api_volume.c). */
#if defined(CIVREG_HAVE_PASSPORT)
#define CIVREG_SEPARATOR_PRINT_ROUTE                                                             \
    { "POST", "/api/v1/separators", "scan.separator", WEB_API, web_api_separator_print,        \
      "Separator sheets {office?, year, volume, count?} as one PDF to print (download)" },
#else
#define CIVREG_SEPARATOR_PRINT_ROUTE
#endif

#define CIVREG_SCAN_ROUTES                                                                       \
    { "POST", "/api/v1/scan-batches", "scan.import", WEB_API, web_api_scan_batch_create,       \
      "Start an upload batch: {id}; files are then added one per request, in order" },          \
    { "POST", "/api/v1/scan-batches/{id}/files", "scan.import", WEB_API | WEB_RAW_BODY,        \
      web_api_scan_batch_file,                                                                  \
      "Add one scan to a batch (raw body PNG, JPEG, TIFF or PNM, 64 MB; X-File-Name)" },         \
    { "POST", "/api/v1/scan-batches/{id}/import", "scan.import", WEB_API,                      \
      web_api_scan_batch_import,                                                                \
      "Import a batch's files in order (separator sheets start volumes): a signed scan.import " \
      "event; the import summary" },                                                            \
    { "GET", "/api/v1/volumes", "scan.read", WEB_API, web_api_scan_volumes,                    \
      "Imported register volumes with page and flagged-page counts" },                          \
    { "GET", "/api/v1/volumes/{id}/pages", "scan.read", WEB_API, web_api_scan_volume_pages,    \
      "The pages of a volume (id office|year|volume) with quality flags" },                     \
    { "GET", "/api/v1/pages/{id}", "scan.read", WEB_API, web_api_scan_page,                    \
      "A page: metadata, register reference and evidence hash" },                               \
    { "GET", "/api/v1/pages/{id}/{kind}", "scan.read", WEB_API, web_api_scan_page_image,       \
      "A page's preview (PNG) or full image (the scanned file) from the evidence store" },      \
    { "GET", "/scans/upload", "scan.import", WEB_PAGE, web_handle_page, "Batch upload",        \
      "scan-upload" },                                                                          \
    { "GET", "/volumes", "scan.read", WEB_PAGE, web_handle_page, "Volumes", "volumes" },       \
    { "GET", "/volumes/{id}", "scan.read", WEB_PAGE, web_handle_page, "A volume's pages",      \
      "volume" },                                                                               \
    { "GET", "/pages/{id}/key", "record.draft", WEB_PAGE, web_handle_page,                      \
      "Keying: the page beside the draft form", "keying" },                                   \
    { "GET", "/api/v1/volumes/{id}/progress", "scan.read", WEB_API, web_api_volume_progress,   \
      "Keying progress of a volume: records keyed, verified, registered per page" },            \
    { "GET", "/volumes/{id}/progress", "scan.read", WEB_PAGE, web_handle_page,                 \
      "A volume's keying progress", "progress" },                                               \
    { "GET", "/api/v1/separators", "scan.separator", WEB_API, web_api_separator_preview,       \
      "Preview separator sheets (?office&year&volume&count): fields, payload, bars" },          \
    { "GET", "/separators", "scan.separator", WEB_PAGE, web_handle_page,                       \
      "Separator sheets: choose, preview, print", "separators" },                               \
    CIVREG_SEPARATOR_PRINT_ROUTE

#else
#define CIVREG_SCAN_ROUTES
#endif

#endif
