-- straddle: expand
-- The shop's first schema: customers, the catalogue, orders and their lines.
-- Every table here is new, so nothing in this migration can block a running
-- application, and indexes may be built the plain way.

CREATE TABLE users (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text        NOT NULL,
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One account per address, whatever its case.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE products (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku          text        NOT NULL UNIQUE,
    title        text        NOT NULL,
    price_cents  bigint      NOT NULL CHECK (price_cents >= 0),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Order states are text with a CHECK rather than an enum: a CHECK can be
-- widened and narrowed again by a down migration, an enum value cannot be
-- removed once added.
CREATE TABLE orders (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id),
    status       text        NOT NULL DEFAULT 'pending'
                 CONSTRAINT orders_status_check
                 CHECK (status IN ('pending', 'paid', 'shipped', 'cancelled')),
    total_cents  bigint      NOT NULL CHECK (total_cents >= 0),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- PostgreSQL does not index the referencing side of a foreign key on its own;
-- without these, deleting a user or a product scans every order (line).
CREATE INDEX orders_user_id_idx ON orders (user_id);

CREATE TABLE order_items (
    order_id          bigint  NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id        bigint  NOT NULL REFERENCES products (id),
    quantity          integer NOT NULL CHECK (quantity > 0),
    unit_price_cents  bigint  NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_id, product_id)
);

CREATE INDEX order_items_product_id_idx ON order_items (product_id);
