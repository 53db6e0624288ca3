/* civreg issuance/print: every page civreg prints (libharu): the passport
 * data page, the certified extract with its seal, and the volume separator
 * sheet of the scanner.
 *
 * The one header other modules include for it. hpdf.h and qrencode.h stay
 * inside this folder.
 */
#ifndef CIVREG_ISSUANCE_PRINT_H
#define CIVREG_ISSUANCE_PRINT_H

#include "issuance/print/datapage.h"
#include "issuance/print/extract_pdf.h"
#include "issuance/print/separator.h"

#endif
