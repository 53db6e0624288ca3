-- civreg registry: the source of every record drafted by `civreg record
-- import`. Line LINE of the JSON Lines file whose SHA-256 is FILE_HASH is
-- drafted once: the pair is the primary key, so an import that was
-- interrupted and is run again on the same file skips what is already in.
-- Each row is derived from its record's signed record.draft event, whose
-- data carries {"source": {"file_sha256": FILE_HASH, "line": LINE}}.
CREATE TABLE record_import_lines (
    file_hash TEXT NOT NULL CHECK (length(file_hash) = 64),
    line      INTEGER NOT NULL CHECK (line >= 1),
    record_id TEXT NOT NULL UNIQUE REFERENCES birth_records(id),
    event_seq INTEGER NOT NULL REFERENCES events(seq),
    PRIMARY KEY (file_hash, line)
) STRICT;
