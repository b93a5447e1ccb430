-- no-transaction

SET lock_timeout = '2s';

ALTER TABLE users ALTER COLUMN full_name DROP NOT NULL;

ALTER TABLE users ADD COLUMN name TEXT;

-- In batches of 5000 rows, each committed on its own, so no row lock is
-- held for long and replicas keep up.
DO $$
DECLARE
    next_id bigint;
    last_id bigint;
BEGIN
    SELECT min(id) - 1, max(id) INTO next_id, last_id FROM users;
    WHILE next_id < last_id LOOP
        UPDATE users SET name = full_name
         WHERE id > next_id AND id <= next_id + 5000
           AND name IS DISTINCT FROM full_name;
        next_id := next_id + 5000;
        COMMIT;
    END LOOP;
END
$$;

CREATE FUNCTION users_name_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.full_name IS NULL THEN
            NEW.full_name := NEW.name;
        ELSIF NEW.name IS NULL THEN
            NEW.name := NEW.full_name;
        END IF;
    ELSIF NEW.full_name IS DISTINCT FROM OLD.full_name THEN
        NEW.name := NEW.full_name;
    ELSIF NEW.name IS DISTINCT FROM OLD.name THEN
        NEW.full_name := NEW.name;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_name_sync BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_name_sync();

ALTER TABLE users ALTER COLUMN name SET NOT NULL;
