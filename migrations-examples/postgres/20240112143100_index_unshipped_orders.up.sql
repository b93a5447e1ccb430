-- no-transaction
-- straddle: expand
-- The packing screen lists the orders that have not shipped yet, oldest first.
--
-- CONCURRENTLY builds the index while reads and writes on orders go on. It
-- cannot run inside a transaction, hence `-- no-transaction` and a file with
-- this single statement. If the build fails (a deadlock, a cancelled deploy),
-- PostgreSQL leaves an INVALID index behind: run the down migration to drop
-- it, then this migration again.
CREATE INDEX CONCURRENTLY orders_unshipped_idx
    ON orders (created_at)
    WHERE shipped_at IS NULL;
