-- civreg national tier, schema 7: national search starts from the words of
-- the names, not from the whole keys. The trigram index of name_keys cannot
-- tell a long key from a short one: for a given name alone it handed over
-- every key sharing three of the name's seven trigrams (about 10,000 keys
-- at 500,000 records for 350 matches, about 40,000 at 2,000,000), each
-- rechecked. The words of the nation's names are a small vocabulary (tens
-- of thousands of words for millions of keys): their trigram index finds
-- the words like each word of the query in a few hundred short entries, and
-- the b-tree of name_words gives the keys that hold those words.
CREATE TABLE IF NOT EXISTS name_vocab (
    word text PRIMARY KEY
);
CREATE INDEX IF NOT EXISTS name_vocab_trgm ON name_vocab
    USING gin (word gin_trgm_ops) WITH (fastupdate = off);

-- each word of each key (keys are registry_name_fold output: A-Z words
-- separated by single blanks)
CREATE TABLE IF NOT EXISTS name_words (
    word     text NOT NULL,
    name_key text NOT NULL,
    PRIMARY KEY (word, name_key)
);

-- Kept by the database itself, one statement per insert into name_keys
-- (the push adds a set of keys with one INSERT ... SELECT).
CREATE OR REPLACE FUNCTION name_keys_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO name_vocab(word)
        SELECT DISTINCT w FROM new_keys, unnest(string_to_array(new_keys.name_key, ' ')) w
        WHERE w <> '' ORDER BY 1 ON CONFLICT DO NOTHING;
    INSERT INTO name_words(word, name_key)
        SELECT DISTINCT w, new_keys.name_key
        FROM new_keys, unnest(string_to_array(new_keys.name_key, ' ')) w
        WHERE w <> '' ORDER BY 1, 2 ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS name_keys_words ON name_keys;
CREATE TRIGGER name_keys_words AFTER INSERT ON name_keys
    REFERENCING NEW TABLE AS new_keys FOR EACH STATEMENT EXECUTE FUNCTION name_keys_words();

INSERT INTO name_vocab(word)
    SELECT DISTINCT w FROM name_keys, unnest(string_to_array(name_key, ' ')) w
    WHERE w <> '' ORDER BY 1 ON CONFLICT DO NOTHING;
INSERT INTO name_words(word, name_key)
    SELECT DISTINCT w, name_key FROM name_keys, unnest(string_to_array(name_key, ' ')) w
    WHERE w <> '' ORDER BY 1, 2 ON CONFLICT DO NOTHING;
ANALYZE name_vocab;
ANALYZE name_words;

-- The words of a name key, each once (what the search looks up); a
-- function of its own so that the planner counts a few words, not a
-- thousand rows of an unknown set (which sent the search to JIT compilation).
CREATE OR REPLACE FUNCTION name_key_words(key text) RETURNS SETOF text
    LANGUAGE plpgsql IMMUTABLE STRICT ROWS 3 AS $$
BEGIN
    RETURN QUERY SELECT DISTINCT w FROM unnest(string_to_array(key, ' ')) w WHERE w <> '';
END
$$;
