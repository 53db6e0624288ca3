-- civreg national tier, schema 4: national search looks names up in one
-- unpartitioned table of the distinct name keys of birth_records, not in
-- the rows. The trigram index over birth_records handed every candidate key
-- to a recheck that read its record's row at random across 8 partitions
-- (about 14,000 rows read for one given name at 1,000,000 records); the
-- keys alone are a few narrow rows per page, one index, planned once, and a
-- key shared by many records is checked once. The records of the best keys
-- are then read by the (name_key, birth_date) b-tree of schema 2. The push
-- adds the keys of the records it writes (a key no record holds any more,
-- after a correction, stays and matches nothing).
CREATE TABLE IF NOT EXISTS name_keys (
    name_key text PRIMARY KEY
);
CREATE INDEX IF NOT EXISTS name_keys_trgm ON name_keys USING gin (name_key gin_trgm_ops);
INSERT INTO name_keys(name_key)
    SELECT DISTINCT name_key FROM birth_records WHERE name_key <> ''
    ON CONFLICT DO NOTHING;
-- nothing else reads the trigram index of the records: every push paid to
-- maintain it for each record it wrote
DROP INDEX IF EXISTS birth_records_name_trgm;
