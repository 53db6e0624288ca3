-- civreg national tier, schema 6: a fork alarm is cleared by an operator,
-- by name and with a reason, after the district restored the history the
-- national tier accepted; the fork rows stay as evidence with who cleared
-- them, when and why. A district still on the rewritten history is refused
-- again at its next push and raises a new alarm.
ALTER TABLE forks ADD COLUMN IF NOT EXISTS cleared_at timestamptz;
ALTER TABLE forks ADD COLUMN IF NOT EXISTS cleared_by text;
ALTER TABLE forks ADD COLUMN IF NOT EXISTS clear_reason text;
