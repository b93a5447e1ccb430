-- WRONG: adds a foreign key that is checked at once. PostgreSQL scans all of
-- orders while holding a lock that blocks writes to orders and users. Add it
-- NOT VALID, then VALIDATE CONSTRAINT in a later migration.
SET lock_timeout = '5s';  -- the one thing this migration gets right
ALTER TABLE orders
    ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id);
