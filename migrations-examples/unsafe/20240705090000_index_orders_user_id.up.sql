-- WRONG: builds an index on an existing table without CONCURRENTLY. The
-- build holds a SHARE lock that blocks every insert, update and delete on
-- orders until it finishes. Use CREATE INDEX CONCURRENTLY, alone in a
-- `-- no-transaction` migration.
SET lock_timeout = '5s';  -- the one thing this migration gets right
CREATE INDEX orders_user_id_idx ON orders (user_id);
