-- WRONG: adds a NOT NULL column without a default. It fails outright if
-- orders has rows, and otherwise every insert of the running release (which
-- does not know the column) fails. Give it a default, or add it nullable and
-- backfill before SET NOT NULL.
SET lock_timeout = '5s';  -- the one thing this migration gets right
ALTER TABLE orders ADD COLUMN currency text NOT NULL;
