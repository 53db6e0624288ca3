/* planted: the office using an internal header of the ICAO library */
#include "issuance/icao/sod.h"
#include "issuance/pki/pki.h"
#include "registry/registry.h"
