-- WRONG: adds a value to an enum. PostgreSQL cannot remove an enum value, so
-- no down migration can undo this once rows use it. Prefer a text column with
-- a CHECK constraint, which a down can narrow again.
SET lock_timeout = '5s';  -- the one thing this migration gets right
ALTER TYPE order_status ADD VALUE 'refunded';
