-- civreg schema 9: a per-user epoch. Every change to what a user may do
-- (disabled, roles changed, password changed or reset) adds one to it, in the
-- same transaction as the change. A signed-in actor remembers the epoch it
-- was authenticated at; the web server compares it on every request and the
-- provenance log before every append, so a change made by any process ends
-- the user's sessions at once.
ALTER TABLE users ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0 CHECK (epoch >= 0);
