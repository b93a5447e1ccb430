-- straddle: contract 20240301090000
-- Rename users.name to users.full_name, step 2 of 2: the contract.
--
-- Run it only once no instance of release N is left: release N still reads
-- and writes `name`.
SET LOCAL lock_timeout = '5s';

-- Every row has full_name now (backfill, then the trigger). VALIDATE checks
-- the old rows under SHARE UPDATE EXCLUSIVE, so reads and writes go on; with
-- the CHECK validated, SET NOT NULL needs no scan under its ACCESS EXCLUSIVE
-- lock (PostgreSQL 12 and later), and the CHECK has done its job.
ALTER TABLE users VALIDATE CONSTRAINT users_full_name_not_null;
ALTER TABLE users ALTER COLUMN full_name SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_full_name_not_null;

DROP TRIGGER users_sync_full_name ON users;
DROP FUNCTION users_sync_full_name();

-- straddle:allow drop-column -- every value of name is in full_name, kept in sync since 20240301090000
ALTER TABLE users DROP COLUMN name;
