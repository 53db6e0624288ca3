-- civreg national tier, schema 3: birth_records no longer carries the
-- record's data as jsonb. Nothing read it: the latest version's exact bytes
-- are in record_versions (office, record_id, version), where a reader joins
-- them. Each push made the server parse every drafted record as jsonb and
-- store it a second time, and the rows the trigram search rechecks were
-- several times wider than the name key, date and identifiers it reads.
ALTER TABLE birth_records DROP COLUMN IF EXISTS data;
