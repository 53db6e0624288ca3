-- civreg national tier, schema 10: a push's new words enter the
-- vocabulary's trigram index in one merge, not one at a time.
--
-- With fastupdate = off (schema 7) each new word of name_vocab went into
-- name_vocab_trgm on its own: a dozen or so trigram entries, each a descent
-- of the GIN tree, about 19 us of the backend's CPU a word (a fresh nation
-- learns thousands of words in its first pushes). With fastupdate = on the
-- statement appends the words to the index's pending list and the trigger
-- then merges that list into the tree at once (gin_clean_pending_list:
-- the trigrams sorted and each posting list written once), before the
-- statement returns. The pending list is therefore empty again whenever no
-- push is inserting words, so searches do not scan it (round 9h measured
-- that a pending list left in place slowed every search). The limit only
-- bounds the list if a single statement brings more than 4 MB of words.
ALTER INDEX name_vocab_trgm SET (fastupdate = on, gin_pending_list_limit = 4096);

-- gin_clean_pending_list asks for the index's owner: the merge runs as the
-- owner of the schema (who ran this migration), whatever role pushes.
CREATE OR REPLACE FUNCTION name_vocab_settle() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM gin_clean_pending_list('name_vocab_trgm'::regclass);
END
$$;

-- Schema 8's trigger, and the merge when the statement added words (none
-- once the nation's names are known: then nothing more is done).
CREATE OR REPLACE FUNCTION name_keys_words() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    added bigint;
BEGIN
    INSERT INTO name_vocab(word)
        SELECT DISTINCT w FROM new_keys, unnest(string_to_array(new_keys.name_key, ' ')) w
        WHERE w <> '' AND NOT EXISTS (SELECT 1 FROM name_vocab v WHERE v.word = w)
        ORDER BY 1 ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    IF added > 0 THEN
        PERFORM name_vocab_settle();
    END IF;
    INSERT INTO name_words(word, name_key)
        SELECT DISTINCT w, new_keys.name_key
        FROM new_keys, unnest(string_to_array(new_keys.name_key, ' ')) w
        WHERE w <> '' ORDER BY 1, 2;
    RETURN NULL;
END
$$;
