DROP TRIGGER users_name_sync_ins;

DROP TRIGGER users_name_sync_old;

DROP TRIGGER users_name_sync_new;

ALTER TABLE users DROP COLUMN full_name;
