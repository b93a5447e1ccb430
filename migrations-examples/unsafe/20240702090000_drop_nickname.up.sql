-- WRONG: drops a column in one step. Every nickname is gone for good (no down
-- can bring the values back), and the running release still selects it and
-- fails. Stop using the column in the app first, then drop it in a contract.
SET lock_timeout = '5s';  -- the one thing this migration gets right
ALTER TABLE users DROP COLUMN nickname;
