-- no-transaction
-- straddle: expand
-- Index the referencing side of orders_shipping_address_id_fkey, so that
-- deleting an address does not scan orders. Built CONCURRENTLY, alone in its
-- file, for the reasons given in 20240112143100.
CREATE INDEX CONCURRENTLY orders_shipping_address_id_idx
    ON orders (shipping_address_id);
