-- no-transaction
-- straddle: contract 20261122042433

SET lock_timeout = '2s';

DROP TRIGGER users_name_sync ON users;

DROP FUNCTION users_name_sync();

-- straddle:allow drop-column -- renamed to full_name: its values live on there; kept in step with full_name since expand 20261122042433
ALTER TABLE users DROP COLUMN name;

-- full_name takes over NOT NULL from name; the validated CHECK lets SET NOT NULL
-- skip its scan.
ALTER TABLE users ADD CONSTRAINT users_full_name_not_null CHECK (full_name IS NOT NULL) NOT VALID;

ALTER TABLE users VALIDATE CONSTRAINT users_full_name_not_null;

ALTER TABLE users ALTER COLUMN full_name SET NOT NULL;

ALTER TABLE users DROP CONSTRAINT users_full_name_not_null;
