-- civreg national tier, schema 9: an index every push paid for and no
-- query read.
--
-- birth_records_uin (schema 1): each registered birth added an entry to it
-- (a random UIN, so a random leaf page of the b-tree), and a record
-- registered in a later push than its draft updated its row without HOT
-- because uin changed. National queries find a person's UIN in persons
-- (persons_uin), and birth_records only by (office, record_id) and by
-- (name_key, birth_date); none asks birth_records by uin.
DROP INDEX IF EXISTS birth_records_uin;
