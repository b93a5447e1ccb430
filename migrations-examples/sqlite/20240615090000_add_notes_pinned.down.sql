-- DROP COLUMN needs SQLite 3.35 or later.
ALTER TABLE notes DROP COLUMN pinned;
