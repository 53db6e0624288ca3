-- civreg scanner: imported scans. The page images themselves are evidence
-- blobs (registry); these tables hold what the scanner learned about each
-- page and where it belongs. Every row is also described by a signed
-- scan.import event in the provenance log.

-- One run of `civreg scan import`.
CREATE TABLE scan_imports (
    id            TEXT PRIMARY KEY,          -- OFFICE-IMP-<random>
    office        TEXT NOT NULL,
    actor         TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,                      -- NULL while running or when killed
    files_total   INTEGER NOT NULL,
    files_done    INTEGER NOT NULL DEFAULT 0,
    files_failed  INTEGER NOT NULL DEFAULT 0,
    pages_added   INTEGER NOT NULL DEFAULT 0,
    pages_skipped INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Register volumes, started by separator sheets (CRVS1|office|year|volume).
CREATE TABLE scan_volumes (
    id         TEXT PRIMARY KEY,             -- office|year|volume
    office     TEXT NOT NULL,
    year       INTEGER NOT NULL,
    volume     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (office, year, volume)
) STRICT;

-- One scanned page: page PAGE_INDEX (1-based) of the file whose SHA-256 is
-- FILE_HASH. The same bytes imported twice are the same page.
CREATE TABLE scan_pages (
    id            TEXT PRIMARY KEY,          -- OFFICE-PG-<file hash prefix>-<page index>
    file_hash     TEXT NOT NULL CHECK (length(file_hash) = 64),
    page_index    INTEGER NOT NULL CHECK (page_index >= 1),
    file_name     TEXT NOT NULL,
    volume_id     TEXT REFERENCES scan_volumes(id),
    page_number   INTEGER,                   -- within the volume; NULL for separators
    is_separator  INTEGER NOT NULL CHECK (is_separator IN (0, 1)),
    quality_flags TEXT NOT NULL,             -- comma-separated, '' when none
    preview_hash  TEXT NOT NULL CHECK (length(preview_hash) = 64),
    meta          TEXT NOT NULL,             -- canonical JSON (docs/scanner.md)
    meta_hash     TEXT NOT NULL CHECK (length(meta_hash) = 64),
    import_id     TEXT NOT NULL REFERENCES scan_imports(id),
    event_seq     INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (file_hash, page_index)
) STRICT;

CREATE INDEX scan_pages_volume ON scan_pages (volume_id, page_number);
