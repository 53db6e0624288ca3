-- civreg schema 1: installation settings and offices.
-- schema_migrations itself is created by db/db.c before any migration runs.

-- Installation settings written by `civreg init` (country, own office, ...).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Offices known to this node. Codes are globally unique across the nation
-- (they prefix identifiers so district data can later merge upward).
CREATE TABLE offices (
    code       TEXT PRIMARY KEY CHECK (length(code) BETWEEN 2 AND 8),
    name       TEXT NOT NULL,
    country    TEXT NOT NULL CHECK (length(country) BETWEEN 1 AND 3),
    created_at TEXT NOT NULL
) STRICT;
