/* allowed: the PKI on the ICAO library, through its public header and
 * the OpenSSL-typed EF.SOD header it signs with */
#include "issuance/icao/icao.h"
#include "issuance/icao/sod.h"
#include "db/db.h"
