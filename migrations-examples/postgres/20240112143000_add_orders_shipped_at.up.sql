-- straddle: expand
-- Record when an order left the warehouse.
--
-- A nullable column without a default only changes the catalogue: no table
-- rewrite, no scan. It still needs a brief ACCESS EXCLUSIVE lock on orders,
-- so give up after 5 seconds rather than queue behind a long transaction
-- while every other query on orders queues behind us.
SET LOCAL lock_timeout = '5s';

ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
