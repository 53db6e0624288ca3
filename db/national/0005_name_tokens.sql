-- civreg national tier, schema 5: the words of each name key, for national
-- search's exact-word lookup. A given name searched alone matches, through
-- the trigram index, every key sharing a few of its trigrams (about 9,000
-- keys rechecked at 400,000 records for about 340 similar ones); the keys
-- that hold the very word are found here by one b-tree range, and when they
-- are enough for the answer no trigram work is done. Words are the
-- blank-separated parts of the key (the key is already folded). The push
-- adds the words of each key it adds to name_keys.
CREATE TABLE IF NOT EXISTS name_tokens (
    token    text NOT NULL,
    name_key text NOT NULL,
    PRIMARY KEY (token, name_key)
);
INSERT INTO name_tokens(token, name_key)
    SELECT DISTINCT t, name_key FROM name_keys, unnest(string_to_array(name_key, ' ')) t
    WHERE t <> '' ORDER BY 1, 2
    ON CONFLICT DO NOTHING;
