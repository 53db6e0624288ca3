-- civreg schema 12: the office's blocks of national UINs. The national tier
-- reserves random Verhoeff-valid UINs nationally (its primary key on uin) and
-- hands a district a block (`civreg sync uin-block`, topped up by every sync
-- push); registration draws the next unused one offline, in the same
-- transaction as the record.register event. Once an office holds a block it
-- never draws a UIN of its own again (docs/national.md).
CREATE TABLE uin_pool (
    uin TEXT PRIMARY KEY CHECK (length(uin) = 10),
    block TEXT NOT NULL,
    received_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX uin_pool_unused ON uin_pool(received_at) WHERE used_at IS NULL;
