/* planted: print going up to the PKI (libharu is print's own) */
#include "issuance/icao/icao.h"
#include "issuance/pki/pki.h"
#include <hpdf.h>
