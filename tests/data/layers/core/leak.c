/* planted: core depending on the database */
#include "core/buf.h"
#include "db/db.h"
