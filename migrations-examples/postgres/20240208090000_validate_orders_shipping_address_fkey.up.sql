-- straddle: expand
-- Check the existing orders against the foreign key that 20240201090000 added
-- NOT VALID. VALIDATE CONSTRAINT scans orders under SHARE UPDATE EXCLUSIVE,
-- which lets reads and writes go on, and only briefly locks addresses against
-- deletes. It is a migration of its own so that the scan never runs while the
-- stronger lock taken by ADD CONSTRAINT is still held.
SET LOCAL lock_timeout = '5s';

ALTER TABLE orders VALIDATE CONSTRAINT orders_shipping_address_id_fkey;
