-- civreg national tier, schema 2: the cross-district duplicate check looks
-- up registered records by exact name key and date of birth for every
-- registration a push brings; without this index each lookup scanned every
-- office's birth records (the trigram index answers similarity, not this).
CREATE INDEX IF NOT EXISTS birth_records_name_birth ON birth_records (name_key, birth_date);
