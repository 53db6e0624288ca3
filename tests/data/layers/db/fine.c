/* allowed: db on core */
#include "core/err.h"
#include <sqlite3.h>
