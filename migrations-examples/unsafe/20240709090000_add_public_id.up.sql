-- WRONG: adds a column with a volatile default. gen_random_uuid() must be
-- computed per row, so PostgreSQL rewrites all of orders under an ACCESS
-- EXCLUSIVE lock that blocks even reads. Add the column without a default,
-- set the default afterwards for new rows, and backfill the old rows in
-- batches.
SET lock_timeout = '5s';  -- the one thing this migration gets right
ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
