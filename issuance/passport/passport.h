/* civreg issuance/passport: the passport office (applications, four eyes,
 * document numbers, booklet stock, documents, personalization).
 *
 * The one header other modules include for it: the office's store
 * (office.h) and its applications workflow (office_app.h).
 */
#ifndef CIVREG_ISSUANCE_PASSPORT_H
#define CIVREG_ISSUANCE_PASSPORT_H

#include "issuance/passport/office.h"
#include "issuance/passport/office_app.h"

#endif
