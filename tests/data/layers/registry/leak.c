/* planted: the registry reaching up into the passport office and the web */
#include "core/err.h"
#include "db/db.h"
#include "issuance/passport/passport.h"
#include "web/web.h"
