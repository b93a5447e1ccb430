-- straddle: expand
-- Users can pin notes. SQLite adds a column without rewriting the table; a
-- NOT NULL column needs a constant default, which the running version's
-- inserts (that do not know the column) then get.
ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1));
