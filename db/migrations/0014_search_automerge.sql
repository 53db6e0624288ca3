-- civreg schema 14: fewer FTS5 index segments for duplicate detection.
-- Every transaction and every savepoint (each draft of a bulk import is
-- one) writes a new level-0 segment to both FTS5 tables, and a query probes
-- every segment for every phrase: duplicate detection, which runs several
-- queries per draft, was the first cost of `record import` and of bulk
-- registration. FTS5 merges segments once `automerge` of them sit at one
-- level (default 4); at 2 the index holds about half as many segments for a
-- little more merging work on each write. A setting only (kept in the
-- tables' _config rows): no row of the index changes, and the audit's
-- recomputation compares rows, not segments.
INSERT INTO search_fts(search_fts, rank) VALUES ('automerge', 2);
INSERT INTO search_tri(search_tri, rank) VALUES ('automerge', 2);
