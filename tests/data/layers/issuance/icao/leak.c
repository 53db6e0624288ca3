/* planted: the Doc 9303 library reaching the database and the registry */
#include "core/buf.h"
#include "db/db.h"
#include "registry/registry.h"
#include "scanner/image.h"
#include <sqlite3.h>
#include <openssl/x509.h>
