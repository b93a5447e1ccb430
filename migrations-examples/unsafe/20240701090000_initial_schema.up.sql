-- The starting point, and the only safe migration in this folder: every
-- table is new. Each later migration makes one classic mistake, named in its
-- first comment; `straddle lint migrations-examples/unsafe` rejects them all.
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped');

CREATE TABLE users (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text        NOT NULL UNIQUE,
    name        text        NOT NULL,
    nickname    text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id           bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint       NOT NULL,
    status       order_status NOT NULL DEFAULT 'pending',
    total_cents  bigint       NOT NULL,
    created_at   timestamptz  NOT NULL DEFAULT now()
);
