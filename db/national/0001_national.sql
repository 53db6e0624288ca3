-- civreg national tier, schema 1 (PostgreSQL 15). Applied by `civreg national
-- init --pg URL` in one transaction. Every table a district fills is
-- partitioned by office (hash of the office code, 8 partitions), so one
-- office's rows sit together and the layout can later move to one server
-- per group of offices. Hashes and keys are lowercase hex text.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Each district office: the public key of its log (registered by the
-- national operator from `civreg audit head`), the last signed tree head the
-- national tier accepted, the Merkle frontier of that tree (the right edge,
-- so the next push is checked without reading old leaves) and the public
-- keys of its users as its log published them (user.add, user.key).
CREATE TABLE offices (
    office         text PRIMARY KEY CHECK (office ~ '^[A-Z0-9]{2,8}$'),
    public_key     text NOT NULL CHECK (public_key ~ '^[0-9a-f]{64}$'),
    tree_size      bigint NOT NULL DEFAULT 0 CHECK (tree_size >= 0),
    root_hash      text NOT NULL,
    head_body      text,
    head_signature text,
    frontier       jsonb NOT NULL DEFAULT '[]',
    actor_keys     jsonb NOT NULL DEFAULT '{}',
    fork_alarm     boolean NOT NULL DEFAULT false,
    last_push_at   timestamptz,
    registered_at  timestamptz NOT NULL DEFAULT now()
);

-- Every signed tree head the national tier accepted.
CREATE TABLE heads (
    office      text NOT NULL,
    tree_size   bigint NOT NULL,
    root_hash   text NOT NULL,
    body        text NOT NULL,
    signature   text NOT NULL,
    accepted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (office, tree_size)
) PARTITION BY HASH (office);

-- The districts' events, exactly as signed.
CREATE TABLE events (
    office    text NOT NULL,
    seq       bigint NOT NULL CHECK (seq >= 0),
    type      text NOT NULL,
    actor     text NOT NULL,
    time      text NOT NULL,
    body      text NOT NULL,
    signature text NOT NULL,
    leaf_hash text NOT NULL,
    PRIMARY KEY (office, seq)
) PARTITION BY HASH (office);

-- Which objects each event touched (for tracing).
CREATE TABLE event_objects (
    office text NOT NULL,
    seq    bigint NOT NULL,
    kind   text NOT NULL,
    id     text NOT NULL,
    hash   text
) PARTITION BY HASH (office);
CREATE INDEX event_objects_id ON event_objects (kind, id);

-- The evidence hashes the events cite (the scans stay in the district).
CREATE TABLE evidence (
    office    text NOT NULL,
    hash      text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    first_seq bigint NOT NULL,
    PRIMARY KEY (office, hash)
) PARTITION BY HASH (office);

-- Record versions: the exact canonical bytes whose SHA-256 an event signed.
CREATE TABLE record_versions (
    office    text NOT NULL,
    record_id text NOT NULL,
    version   integer NOT NULL,
    hash      text NOT NULL,
    data      text NOT NULL,
    event_seq bigint NOT NULL,
    PRIMARY KEY (office, record_id, version)
) PARTITION BY HASH (office);

-- A district whose log does not extend what was accepted: both signed heads.
CREATE TABLE forks (
    id                 bigserial PRIMARY KEY,
    office             text NOT NULL REFERENCES offices(office),
    position           bigint,
    accepted_size      bigint NOT NULL,
    accepted_root      text NOT NULL,
    accepted_body      text,
    accepted_signature text,
    district_size      bigint NOT NULL,
    district_root      text NOT NULL,
    district_body      text NOT NULL,
    district_signature text NOT NULL,
    detail             text NOT NULL,
    detected_at        timestamptz NOT NULL DEFAULT now()
);

-- Replay protection: every request nonce an office used (kept for twice
-- the accepted clock skew, then purged).
CREATE TABLE request_nonces (
    office  text NOT NULL,
    nonce   text NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (office, nonce)
);

-- ---- the national projection (rebuilt from the synced events)

CREATE TABLE birth_records (
    office              text NOT NULL,
    record_id           text NOT NULL,
    version             integer NOT NULL,
    hash                text NOT NULL,
    status              text NOT NULL,
    registration_number text,
    uin                 text,
    data                jsonb,
    name_key            text NOT NULL DEFAULT '',
    birth_date          text NOT NULL DEFAULT '',
    event_seq           bigint NOT NULL,
    PRIMARY KEY (office, record_id)
) PARTITION BY HASH (office);
CREATE INDEX birth_records_name_trgm ON birth_records USING gin (name_key gin_trgm_ops);
CREATE INDEX birth_records_uin ON birth_records (uin);

CREATE TABLE persons (
    office              text NOT NULL,
    uin                 text NOT NULL,
    record_id           text NOT NULL,
    registration_number text NOT NULL,
    link_statement      text NOT NULL,
    link_signature      text NOT NULL,
    link_signer         text NOT NULL,
    event_seq           bigint NOT NULL,
    PRIMARY KEY (office, uin)
) PARTITION BY HASH (office);
CREATE INDEX persons_uin ON persons (uin);

-- One row per UIN in the nation: a UIN two offices hold is refused here.
CREATE TABLE uins (
    uin       text PRIMARY KEY CHECK (uin ~ '^[0-9]{10}$'),
    office    text NOT NULL,
    record_id text,
    state     text NOT NULL CHECK (state IN ('reserved', 'assigned')),
    block_id  bigint,
    at        timestamptz NOT NULL DEFAULT now()
);

-- UINs that arrived in a push already held elsewhere (the push is refused).
CREATE TABLE uin_collisions (
    id          bigserial PRIMARY KEY,
    uin         text NOT NULL,
    office      text NOT NULL,
    record_id   text NOT NULL,
    held_by     text NOT NULL,
    detected_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE deaths (
    office              text NOT NULL,
    id                  text NOT NULL,
    uin                 text NOT NULL,
    registration_number text NOT NULL,
    date_of_death       text NOT NULL,
    event_seq           bigint NOT NULL,
    PRIMARY KEY (office, id)
) PARTITION BY HASH (office);
CREATE INDEX deaths_uin ON deaths (uin);

-- The same birth registered in two offices: a case for both registrars.
CREATE TABLE dup_cases (
    id          bigserial PRIMARY KEY,
    office_a    text NOT NULL,
    record_a    text NOT NULL,
    office_b    text NOT NULL,
    record_b    text NOT NULL,
    why         text NOT NULL,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'same', 'distinct')),
    opened_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (record_a, record_b)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['heads', 'events', 'event_objects', 'evidence', 'record_versions',
                             'birth_records', 'persons', 'deaths'] LOOP
        FOR i IN 0..7 LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES WITH (MODULUS 8, REMAINDER %s)',
                           t || '_p' || i, t, i);
        END LOOP;
    END LOOP;
END
$$;
