-- civreg schema 5: an index for the record list. registry_record_list orders
-- by updated_at DESC, id; without this index SQLite sorts every record (and
-- its version's JSON) on each call: 1.6 requests/s over 100 000 records, 550
-- with it (bench/web, README).
CREATE INDEX birth_records_updated ON birth_records(updated_at DESC, id);
