-- Bring `name` back, filled from full_name, with the two-way sync of the
-- expand. `name` comes back after full_name in the column order.
SET LOCAL lock_timeout = '5s';

ALTER TABLE users ADD COLUMN name text;
-- One statement is fine for the shop's users table in an emergency; on a
-- large table, create the trigger first and copy in batches as
-- 20240301090100 does, then SET NOT NULL through a validated CHECK.
UPDATE users SET name = full_name;
ALTER TABLE users ALTER COLUMN name SET NOT NULL;

ALTER TABLE users ALTER COLUMN full_name DROP NOT NULL;
ALTER TABLE users
    ADD CONSTRAINT users_full_name_not_null CHECK (full_name IS NOT NULL)
    NOT VALID;

CREATE FUNCTION users_sync_full_name() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- Each release sets only its own column.
        NEW.full_name := coalesce(NEW.full_name, NEW.name);
        NEW.name := coalesce(NEW.name, NEW.full_name);
    ELSIF NEW.full_name IS DISTINCT FROM OLD.full_name THEN
        -- Release N+1 (or the backfill) wrote full_name.
        NEW.name := NEW.full_name;
    ELSIF NEW.name IS DISTINCT FROM OLD.name OR NEW.full_name IS NULL THEN
        -- Release N wrote name, or touched a row the backfill has not
        -- reached yet: fill full_name so the CHECK above holds.
        NEW.full_name := NEW.name;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_sync_full_name
    BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_sync_full_name();
