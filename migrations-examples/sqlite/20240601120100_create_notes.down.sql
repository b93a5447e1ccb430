DROP INDEX notes_user_id_idx;
DROP TABLE notes;
