-- civreg schema: the passport office. Applications (enrolment, four-eyes
-- approval, personalization, quality control, issuance, collection),
-- document numbers (a configurable series, never reused), blank booklet
-- stock, and the status of every document number ever allocated.
-- Nothing here is deleted: rows only move forward through their states.

-- One series per document type. PATTERN is literal [A-Z0-9] with
-- placeholders {seq:N} (exactly once), {office} and {yy}; NEXT_SEQ only grows.
CREATE TABLE doc_number_series (
    doc_type   TEXT PRIMARY KEY CHECK (doc_type IN ('TD3', 'TD1')),
    pattern    TEXT NOT NULL,
    next_seq   INTEGER NOT NULL CHECK (next_seq >= 1),
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
) STRICT;

-- Deliveries of blank booklets (TD3) or card bodies (TD1): a range of serials.
CREATE TABLE booklet_batches (
    id          TEXT PRIMARY KEY,
    doc_type    TEXT NOT NULL CHECK (doc_type IN ('TD3', 'TD1')),
    first       TEXT NOT NULL,
    last        TEXT NOT NULL,
    count       INTEGER NOT NULL CHECK (count > 0),
    reference   TEXT NOT NULL,
    received_at TEXT NOT NULL,
    received_by TEXT NOT NULL
) STRICT;

-- Every blank, from delivery to personalization or spoiling.
CREATE TABLE booklets (
    serial         TEXT PRIMARY KEY,
    doc_type       TEXT NOT NULL CHECK (doc_type IN ('TD3', 'TD1')),
    batch_id       TEXT NOT NULL REFERENCES booklet_batches(id),
    status         TEXT NOT NULL CHECK (status IN ('blank', 'reserved', 'personalized',
                                                   'spoiled')),
    application_id TEXT,
    reason         TEXT,
    updated_at     TEXT NOT NULL,
    updated_by     TEXT NOT NULL
) STRICT;
CREATE INDEX booklets_free ON booklets(doc_type, status, serial);

-- Each stock movement (also a signed event in the provenance log).
CREATE TABLE booklet_movements (
    id             INTEGER PRIMARY KEY,
    serial         TEXT,
    batch_id       TEXT,
    movement       TEXT NOT NULL CHECK (movement IN ('receive', 'reserve', 'release',
                                                     'personalize', 'spoil')),
    application_id TEXT,
    reason         TEXT,
    at             TEXT NOT NULL,
    by             TEXT NOT NULL
) STRICT;

-- Applications, from the counter to the holder's hands.
CREATE TABLE applications (
    id              TEXT PRIMARY KEY,
    office          TEXT NOT NULL,
    uin             TEXT NOT NULL,
    record_id       TEXT NOT NULL,
    doc_type        TEXT NOT NULL CHECK (doc_type IN ('TD3', 'TD1')),
    kind            TEXT NOT NULL CHECK (kind IN ('new', 'renewal', 'replacement')),
    replaces        TEXT,
    status          TEXT NOT NULL CHECK (status IN ('submitted', 'rejected', 'approved',
                                                    'personalized', 'qc_failed', 'qc_passed',
                                                    'issued', 'collected')),
    holder          TEXT NOT NULL, -- JSON: the data printed and written to the chip
    contact         TEXT NOT NULL, -- JSON
    checks          TEXT NOT NULL, -- JSON: evidence checks and their results
    photo_hash      TEXT NOT NULL,
    signature_hash  TEXT,
    enrolled_by     TEXT NOT NULL,
    enrolled_at     TEXT NOT NULL,
    decided_by      TEXT,
    decided_at      TEXT,
    decision_reason TEXT,
    document_number TEXT UNIQUE,
    booklet_serial  TEXT UNIQUE,
    mrz             TEXT,
    datapage_hash   TEXT,
    chip_hash       TEXT,
    updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX applications_status ON applications(status, enrolled_at);
CREATE INDEX applications_uin ON applications(uin);

-- Every document number ever allocated, and the document's status.
CREATE TABLE documents (
    number          TEXT PRIMARY KEY,
    doc_type        TEXT NOT NULL CHECK (doc_type IN ('TD3', 'TD1')),
    application_id  TEXT NOT NULL UNIQUE REFERENCES applications(id),
    uin             TEXT NOT NULL,
    issuing_state   TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('allocated', 'personalized', 'valid',
                                                    'lost', 'stolen', 'revoked', 'cancelled',
                                                    'expired')),
    booklet_serial  TEXT,
    date_of_issue   TEXT,
    date_of_expiry  TEXT,
    status_reason   TEXT,
    status_evidence TEXT, -- JSON array of blob hashes
    status_at       TEXT NOT NULL,
    status_by       TEXT NOT NULL,
    allocated_at    TEXT NOT NULL
) STRICT;
CREATE INDEX documents_uin ON documents(uin, doc_type, status);

-- Numbers and serials are never reused: no row of these tables goes away,
-- and a document keeps its number.
CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents
BEGIN SELECT RAISE(ABORT, 'document numbers are never deleted'); END;
CREATE TRIGGER documents_number_fixed BEFORE UPDATE OF number ON documents
BEGIN SELECT RAISE(ABORT, 'a document keeps its number'); END;
CREATE TRIGGER booklets_no_delete BEFORE DELETE ON booklets
BEGIN SELECT RAISE(ABORT, 'booklets are never deleted'); END;
CREATE TRIGGER applications_no_delete BEFORE DELETE ON applications
BEGIN SELECT RAISE(ABORT, 'applications are never deleted'); END;
CREATE TRIGGER series_seq_grows BEFORE UPDATE OF next_seq ON doc_number_series
WHEN NEW.next_seq < OLD.next_seq
BEGIN SELECT RAISE(ABORT, 'a document number sequence never goes back'); END;
