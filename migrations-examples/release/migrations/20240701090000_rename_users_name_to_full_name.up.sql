-- straddle: expand
-- Release 2.0 renames users.name to users.full_name, step 1 of 2 (written by
-- `straddle new --rename-column users.name users.full_name`): the new column,
-- triggers that keep both in step while releases 1.0 and 2.0 run side by
-- side, and the backfill. Release 1.0 never notices.

ALTER TABLE users ADD COLUMN full_name TEXT;

CREATE TRIGGER users_name_sync_ins AFTER INSERT ON users
WHEN NEW.full_name IS NULL OR NEW.name IS NULL
BEGIN
    UPDATE users SET full_name = coalesce(NEW.full_name, NEW.name), name = coalesce(NEW.name, NEW.full_name)
    WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER users_name_sync_old AFTER UPDATE OF name ON users
WHEN NEW.name IS DISTINCT FROM OLD.name AND NEW.full_name IS NOT DISTINCT FROM OLD.full_name
BEGIN
    UPDATE users SET full_name = NEW.name WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER users_name_sync_new AFTER UPDATE OF full_name ON users
WHEN NEW.full_name IS DISTINCT FROM OLD.full_name AND NEW.name IS NOT DISTINCT FROM OLD.name
BEGIN
    UPDATE users SET name = NEW.full_name WHERE rowid = NEW.rowid;
END;

-- SQLite has one writer at a time and no procedural loop: one UPDATE.
UPDATE users SET full_name = name WHERE full_name IS DISTINCT FROM name;
