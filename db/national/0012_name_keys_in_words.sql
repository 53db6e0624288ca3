-- civreg national tier, schema 12: the nation's name keys kept by
-- name_words alone.
--
-- Since schema 7 national search reads name_vocab (the words, by trigram)
-- and name_words (word, name_key) (the keys holding a word); name_keys
-- (name_key) was read by nothing but the push's own insert, whose
-- RETURNING told the keys no record of the nation held before (round 11d:
-- their registrations are not looked up for duplicates), and whose trigger
-- then wrote the new keys' words. Every key of name_keys with a word has
-- all its (word, key) rows in name_words, written in the same statement
-- (schema 7's migration added those of the keys before it), so a key is
-- new to the nation exactly when the push's insert into name_words adds
-- rows for it: the push now inserts the words of its keys into name_words
-- with ON CONFLICT DO NOTHING and takes the keys of the rows it added.
-- Each new key no longer costs a heap row and a random leaf of
-- name_keys_pkey (with its WAL, and its full-page image after a
-- checkpoint), nor a transition table and a second statement. Two offices
-- pushing the same new key at once: the second's insert waits on the
-- first's (word, key) entries until the first commits, then finds them
-- (the key is known, its registrations are looked up), as it waited on
-- name_keys before. A key without a word (all blanks) is never new: its
-- registrations are looked up, the safe side.
--
-- The vocabulary is fed by a statement trigger on name_words now: the words
-- of the rows a statement added, those not yet known, then the trigram
-- index's pending list merged at once (schema 10).
DROP TABLE IF EXISTS name_keys;
DROP FUNCTION IF EXISTS name_keys_words();

CREATE OR REPLACE FUNCTION name_words_vocab() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    added bigint;
BEGIN
    INSERT INTO name_vocab(word)
        SELECT DISTINCT n.word FROM new_words n
        WHERE NOT EXISTS (SELECT 1 FROM name_vocab v WHERE v.word = n.word)
        ORDER BY 1 ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    IF added > 0 THEN
        PERFORM name_vocab_settle();
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS name_words_vocab ON name_words;
CREATE TRIGGER name_words_vocab AFTER INSERT ON name_words
    REFERENCING NEW TABLE AS new_words FOR EACH STATEMENT EXECUTE FUNCTION name_words_vocab();
