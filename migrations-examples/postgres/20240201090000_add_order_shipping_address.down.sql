SET LOCAL lock_timeout = '5s';

ALTER TABLE orders DROP CONSTRAINT orders_shipping_address_id_fkey;
ALTER TABLE orders DROP COLUMN shipping_address_id;
DROP TABLE addresses;
