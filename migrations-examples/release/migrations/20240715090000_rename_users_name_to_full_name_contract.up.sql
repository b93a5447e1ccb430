-- straddle: contract 20240701090000
-- Step 2 of 2: once no instance of release 1.0 is left (the contract gate
-- checks it), drop the triggers and the old column.

DROP TRIGGER users_name_sync_ins;

DROP TRIGGER users_name_sync_old;

DROP TRIGGER users_name_sync_new;

-- straddle:allow drop-column -- renamed to full_name: its values live on there; kept in step with full_name since expand 20240701090000
ALTER TABLE users DROP COLUMN name;
