-- There is no ALTER TYPE ... DROP VALUE: this down cannot undo its up.
SELECT 1;
