-- straddle: expand
-- A user's pinned notes come first, newest first.
CREATE INDEX notes_user_pinned_idx ON notes (user_id, pinned DESC, created_at DESC);
