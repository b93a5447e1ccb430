-- no-transaction

SET lock_timeout = '2s';

DROP TRIGGER users_name_sync ON users;

DROP FUNCTION users_name_sync();

ALTER TABLE users DROP COLUMN full_name;
