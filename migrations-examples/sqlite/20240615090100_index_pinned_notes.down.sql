DROP INDEX notes_user_pinned_idx;
