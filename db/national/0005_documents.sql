-- civreg national tier, schema 5: the travel documents of every office,
-- projected from the synced document events (personalized, issued, a status
-- set by the office: lost, stolen, revoked, expired; cancelled when a new
-- document replaces it). A passport office anywhere sees which documents a
-- person holds or held in any district; the events themselves stay the
-- evidence (national trace).
CREATE TABLE IF NOT EXISTS documents (
    office         text NOT NULL,
    number         text NOT NULL,
    uin            text NOT NULL,
    status         text NOT NULL,
    status_reason  text,
    date_of_issue  text,
    date_of_expiry text,
    event_seq      bigint NOT NULL,
    PRIMARY KEY (office, number)
) PARTITION BY HASH (office);
CREATE INDEX IF NOT EXISTS documents_uin ON documents (uin);

DO $$
BEGIN
    FOR i IN 0..7 LOOP
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF documents'
                       ' FOR VALUES WITH (MODULUS 8, REMAINDER %s)', 'documents_p' || i, i);
    END LOOP;
END
$$;
