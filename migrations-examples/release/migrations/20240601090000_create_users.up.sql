-- straddle: expand
-- Release 1.0: users with one `name` column.
CREATE TABLE users (
    id INTEGER NOT NULL PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT
);
