-- WRONG: this migration has no down file. The change itself is harmless, but
-- if the release is rolled back nothing says how to undo it. Add
-- 20240707090000_add_last_login.down.sql with
-- `ALTER TABLE users DROP COLUMN last_login_at;`.
SET lock_timeout = '5s';  -- the one thing this migration gets right
ALTER TABLE users ADD COLUMN last_login_at timestamptz;
