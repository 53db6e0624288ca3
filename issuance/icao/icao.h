/* civreg issuance/icao: the ICAO Doc 9303 library, with no database.
 *
 * The one header other modules include for it: machine-readable zones and
 * issuing-state codes (Part 3), BER-TLV and the LDS data groups (Part 10),
 * passive authentication of a chip's contents (Part 11), visible digital
 * seals for non-constrained environments (Part 13), portrait checks. Each
 * concept keeps its own header in this folder; EF.SOD (sod.h) and the
 * certificate helpers (cert.h), which speak OpenSSL types, are for the PKI
 * (issuance/pki/) only.
 */
#ifndef CIVREG_ISSUANCE_ICAO_H
#define CIVREG_ISSUANCE_ICAO_H

#include "issuance/icao/countries.h"
#include "issuance/icao/lds.h"
#include "issuance/icao/mrz.h"
#include "issuance/icao/passive_auth.h"
#include "issuance/icao/photo.h"
#include "issuance/icao/tlv.h"
#include "issuance/icao/vds.h"

#endif
