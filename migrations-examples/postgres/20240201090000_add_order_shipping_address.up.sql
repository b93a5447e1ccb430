-- straddle: expand
-- Orders get a shipping address.
--
-- addresses is new and empty, so its own foreign key to users has nothing to
-- check. orders is large and busy: the new column is nullable (no rewrite)
-- and its foreign key is added NOT VALID, which enforces it at once for new
-- and updated rows without scanning the existing ones under lock.
-- 20240208090000 validates the existing rows later, under a lock that lets
-- reads and writes go on.
SET LOCAL lock_timeout = '5s';

CREATE TABLE addresses (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint      NOT NULL REFERENCES users (id),
    line1         text        NOT NULL,
    line2         text,
    city          text        NOT NULL,
    postal_code   text        NOT NULL,
    country_code  text        NOT NULL CHECK (country_code ~ '^[A-Z]{2}$'),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX addresses_user_id_idx ON addresses (user_id);

ALTER TABLE orders ADD COLUMN shipping_address_id bigint;

ALTER TABLE orders
    ADD CONSTRAINT orders_shipping_address_id_fkey
    FOREIGN KEY (shipping_address_id) REFERENCES addresses (id)
    NOT VALID;
