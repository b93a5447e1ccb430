-- `name` still holds every value (the trigger kept it up to date), so
-- dropping full_name loses nothing.
SET LOCAL lock_timeout = '5s';

DROP TRIGGER users_sync_full_name ON users;
DROP FUNCTION users_sync_full_name();
ALTER TABLE users DROP CONSTRAINT users_full_name_not_null;
ALTER TABLE users DROP COLUMN full_name;
