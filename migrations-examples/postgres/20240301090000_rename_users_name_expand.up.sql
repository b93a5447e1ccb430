-- straddle: expand
-- Rename users.name to users.full_name, step 1 of 2: the expand.
--
-- Release N reads and writes `name`; release N+1 reads and writes
-- `full_name`. While both run, a trigger copies every write to the other
-- column, in both directions. 20240301090100 copies the existing rows in
-- batches; the contract, 20240315090000, drops `name` once no instance of
-- release N is left.
SET LOCAL lock_timeout = '5s';

-- Nullable and without a default: a catalogue-only change.
ALTER TABLE users ADD COLUMN full_name text;

-- `name` is NOT NULL, and full_name must end up so too. Until the contract
-- this CHECK holds it for every new and updated row; NOT VALID skips the scan
-- of the existing rows, which the backfill has not reached yet.
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
