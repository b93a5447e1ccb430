-- straddle: expand
-- Each note belongs to a user. SQLite enforces foreign keys only on
-- connections that run `PRAGMA foreign_keys = ON` (sqlx does by default).
CREATE TABLE notes (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body        TEXT    NOT NULL,
    created_at  TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX notes_user_id_idx ON notes (user_id);
