-- civreg schema 2: the registry. Users and their keys, the office log key,
-- the provenance log (events, RFC 6962 Merkle tree, signed tree heads),
-- evidence blobs, birth records and their versions, persons and signed links.
-- Nothing here is ever deleted: corrections are new versions, disabled users
-- stay, identity and registration numbers are never reused.

-- Users. The Ed25519 signing key is sealed (XChaCha20-Poly1305) under a key
-- derived with Argon2id from the user's password and KEY_SALT; only its
-- public half is readable. Public keys are also logged (event user.add).
CREATE TABLE users (
    username   TEXT PRIMARY KEY CHECK (length(username) BETWEEN 2 AND 32),
    office     TEXT NOT NULL REFERENCES offices(code),
    roles      INTEGER NOT NULL CHECK (roles > 0),
    pw_hash    TEXT NOT NULL,
    key_salt   BLOB NOT NULL CHECK (length(key_salt) = 16),
    sealed_key BLOB NOT NULL,
    public_key BLOB NOT NULL CHECK (length(public_key) = 32),
    disabled   INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at TEXT NOT NULL,
    event_seq  INTEGER NOT NULL
) STRICT;

-- The office's log-signing key (signs tree heads), sealed under the key file
-- keys/office-<code>.key.
CREATE TABLE office_keys (
    office     TEXT PRIMARY KEY REFERENCES offices(code),
    public_key BLOB NOT NULL CHECK (length(public_key) = 32),
    sealed_key BLOB NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

-- The provenance log. SEQ is the leaf index in the Merkle tree; BODY the
-- event's RFC 8785 canonical JSON, SIGNATURE the actor's Ed25519 signature
-- over BODY, LEAF_HASH = SHA-256(0x00 || BODY || SIGNATURE).
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY CHECK (seq >= 0),
    type       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    office     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body       TEXT NOT NULL,
    signature  BLOB NOT NULL CHECK (length(signature) = 64),
    leaf_hash  BLOB NOT NULL CHECK (length(leaf_hash) = 32)
) STRICT;

-- Which objects each event touched (an index for tracing; rebuilt from the
-- event bodies and checked by `audit verify`).
CREATE TABLE event_objects (
    kind      TEXT NOT NULL,
    object_id TEXT NOT NULL,
    seq       INTEGER NOT NULL REFERENCES events(seq),
    PRIMARY KEY (kind, object_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX event_objects_seq ON event_objects(seq);

-- Every complete subtree of the Merkle tree: level 0 are leaf hashes.
CREATE TABLE merkle_nodes (
    level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 63),
    idx   INTEGER NOT NULL CHECK (idx >= 0),
    hash  BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

-- Tree heads signed by the office key after each append. BODY is the
-- canonical JSON that was signed.
CREATE TABLE tree_heads (
    tree_size INTEGER PRIMARY KEY CHECK (tree_size > 0),
    root_hash BLOB NOT NULL CHECK (length(root_hash) = 32),
    office    TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    body      TEXT NOT NULL,
    signature BLOB NOT NULL CHECK (length(signature) = 64)
) STRICT;

-- Evidence, content-addressed: the bytes live in blobs/ab/cd/<hash>.
CREATE TABLE blobs (
    hash       TEXT PRIMARY KEY CHECK (length(hash) = 64),
    size       INTEGER NOT NULL CHECK (size >= 0),
    media_type TEXT NOT NULL,
    added_by   TEXT NOT NULL,
    added_at   TEXT NOT NULL,
    event_seq  INTEGER NOT NULL REFERENCES events(seq)
) STRICT;

-- Birth records: the mutable head of a record (its state); the content is
-- in record_versions.
CREATE TABLE birth_records (
    id                  TEXT PRIMARY KEY,
    office              TEXT NOT NULL REFERENCES offices(code),
    status              TEXT NOT NULL CHECK (status IN ('draft', 'verified', 'registered')),
    version             INTEGER NOT NULL CHECK (version >= 1),
    verified_by         TEXT,
    registration_number TEXT UNIQUE,
    registered_by       TEXT,
    registered_at       TEXT,
    uin                 TEXT UNIQUE,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    event_seq           INTEGER NOT NULL REFERENCES events(seq)
) STRICT;
CREATE INDEX birth_records_status ON birth_records(status, office);

-- Every version of every record, never updated. DATA is the canonical JSON
-- of the record fields, HASH its SHA-256.
CREATE TABLE record_versions (
    record_id       TEXT NOT NULL REFERENCES birth_records(id),
    version         INTEGER NOT NULL CHECK (version >= 1),
    data            TEXT NOT NULL,
    hash            TEXT NOT NULL CHECK (length(hash) = 64),
    prev_hash       TEXT,
    reason          TEXT,
    reason_evidence TEXT,
    keyed_by        TEXT NOT NULL REFERENCES users(username),
    keyed_at        TEXT NOT NULL,
    event_seq       INTEGER NOT NULL REFERENCES events(seq),
    PRIMARY KEY (record_id, version)
) STRICT;

-- Registration numbers: one counter per office and year, only ever
-- incremented inside the registering transaction.
CREATE TABLE registration_counters (
    office TEXT NOT NULL REFERENCES offices(code),
    year   INTEGER NOT NULL,
    last   INTEGER NOT NULL CHECK (last >= 0),
    PRIMARY KEY (office, year)
) STRICT;

-- Persons, identified by their UIN (never reused: rows are never deleted).
CREATE TABLE persons (
    uin        TEXT PRIMARY KEY CHECK (length(uin) = 10),
    record_id  TEXT NOT NULL UNIQUE REFERENCES birth_records(id),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    event_seq  INTEGER NOT NULL REFERENCES events(seq)
) STRICT;

-- Signed link statements record version <-> person <-> evidence.
-- STATEMENT is canonical JSON signed by SIGNER (a registrar).
CREATE TABLE person_links (
    uin            TEXT NOT NULL REFERENCES persons(uin),
    record_id      TEXT NOT NULL REFERENCES birth_records(id),
    record_version INTEGER NOT NULL,
    statement      TEXT NOT NULL,
    signature      BLOB NOT NULL CHECK (length(signature) = 64),
    signer         TEXT NOT NULL,
    event_seq      INTEGER NOT NULL REFERENCES events(seq),
    PRIMARY KEY (uin, record_id, record_version)
) STRICT;
