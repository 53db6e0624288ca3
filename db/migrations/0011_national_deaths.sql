-- civreg: deaths the national tier holds (registry/national_evidence.c).
--
-- A death registered in another district reaches this office through the
-- national tier (`civreg sync deaths`, or the answer of an enrolment that
-- asked the nation for a person). The row is the national tier's word, kept
-- so that issuance is refused offline too; it never replaces a local death
-- registration (table deaths) and is never deleted.
CREATE TABLE national_deaths (
    uin                 TEXT PRIMARY KEY CHECK (length(uin) = 10),
    office              TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    date_of_death       TEXT NOT NULL,
    event_seq           INTEGER NOT NULL CHECK (event_seq >= -1),
    received_at         TEXT NOT NULL
) STRICT;
CREATE INDEX national_deaths_office ON national_deaths (office, event_seq);
