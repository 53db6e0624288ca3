-- civreg national tier, schema 11: one index on persons, not two.
--
-- Every registration added a row to persons and an entry to two b-trees,
-- both keyed by its UIN: the primary key (office, uin) (within a partition
-- the office is one of a few, so the UIN places the entry: a random leaf
-- page) and persons_uin (uin), the one the national queries read (a
-- person's record is looked up by UIN alone). A key on the same two columns
-- led by the UIN is both: it keeps (office, uin) unique, as before, and
-- serves the look-up by UIN. Nothing asks persons by office with an index
-- (no national query does; the push only appends with COPY). At 2,000,000
-- persons the two b-trees are about 140 MB, larger than a small server's
-- shared buffers: each entry was a random page read and, after a
-- checkpoint, a full-page image in the WAL.
ALTER TABLE persons DROP CONSTRAINT IF EXISTS persons_pkey;
ALTER TABLE persons ADD CONSTRAINT persons_pkey PRIMARY KEY (uin, office);
DROP INDEX IF EXISTS persons_uin;
