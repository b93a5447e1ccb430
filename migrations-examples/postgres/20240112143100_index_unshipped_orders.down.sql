-- no-transaction
-- IF EXISTS: also cleans up after a failed, half-built index.
DROP INDEX CONCURRENTLY IF EXISTS orders_unshipped_idx;
