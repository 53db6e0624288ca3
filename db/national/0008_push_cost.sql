-- civreg national tier, schema 8: what every push paid for and nothing read.
--
-- The trigram index of name_keys: since schema 7 national search finds
-- keys through the words of name_vocab and name_words; nothing asks
-- name_keys_trgm any more, and each new key cost its dozen or so trigram
-- entries in a GIN index.
DROP INDEX IF EXISTS name_keys_trgm;

-- The hash of each object an event names is in the event's signed body
-- (events.body); no query read this copy of it. (The push no longer
-- writes "link" rows either: the link statement an event names is in its
-- body and in persons; rows written before schema 8 stay, read by no one.)
ALTER TABLE event_objects DROP COLUMN IF EXISTS hash;

-- The words of the keys a statement added, the same rows as schema 7's
-- trigger. A key in new_keys was not in name_keys before this statement
-- (its insert is ON CONFLICT DO NOTHING, and keys are never deleted), so
-- none of its (word, key) pairs is in name_words: they are inserted
-- without the speculative ON CONFLICT path; and only words not yet in the
-- vocabulary go to name_vocab (which are few once the nation's names are
-- known). ON CONFLICT stays on name_vocab for two pushes adding the same
-- new word at once.
CREATE OR REPLACE FUNCTION name_keys_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO name_vocab(word)
        SELECT DISTINCT w FROM new_keys, unnest(string_to_array(new_keys.name_key, ' ')) w
        WHERE w <> '' AND NOT EXISTS (SELECT 1 FROM name_vocab v WHERE v.word = w)
        ORDER BY 1 ON CONFLICT DO NOTHING;
    INSERT INTO name_words(word, name_key)
        SELECT DISTINCT w, new_keys.name_key
        FROM new_keys, unnest(string_to_array(new_keys.name_key, ' ')) w
        WHERE w <> '' ORDER BY 1, 2;
    RETURN NULL;
END
$$;
