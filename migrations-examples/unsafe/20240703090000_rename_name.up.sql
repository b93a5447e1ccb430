-- WRONG: renames a column in one step. The running release reads and writes
-- `name` and fails from the moment this commits. Add the new column, keep
-- both in sync, switch the app, then drop the old one (expand + contract).
SET lock_timeout = '5s';  -- the one thing this migration gets right
ALTER TABLE users RENAME COLUMN name TO full_name;
