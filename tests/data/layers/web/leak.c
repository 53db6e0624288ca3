/* planted: the web reaching past public headers, and owning zbar */
#include "issuance/icao/mrz.h"
#include "registry/registry_int.h"
#include "registry/registry.h"
#include <zbar.h>
#include <civetweb.h>
#if __has_include("issuance/pki.h")
#define HAVE_PKI 1
#endif
