/* civreg issuance: helpers shared between the MRZ files (not API). */
#ifndef CIVREG_ISSUANCE_MRZ_INT_H
#define CIVREG_ISSUANCE_MRZ_INT_H

#include "core/buf.h"
#include "core/err.h"

#endif
