-- no-transaction
-- straddle: expand
-- Rename users.name to users.full_name: copy the existing rows, in batches.
--
-- Each batch commits on its own, so row locks are short and no single
-- transaction holds up vacuum. A DO block may COMMIT only outside a
-- transaction, hence `-- no-transaction` and this single statement. Rows
-- written meanwhile are kept in sync by the trigger of 20240301090000.
-- Running it again is harmless: it only touches rows still missing full_name.
DO $$
DECLARE
    batch_size constant bigint := 5000;
    last_id bigint := 0;
    max_id bigint;
BEGIN
    SELECT coalesce(max(id), 0) INTO max_id FROM users;
    WHILE last_id < max_id LOOP
        UPDATE users
           SET full_name = name
         WHERE id > last_id
           AND id <= last_id + batch_size
           AND full_name IS NULL;
        last_id := last_id + batch_size;
        COMMIT;
    END LOOP;
END
$$;
