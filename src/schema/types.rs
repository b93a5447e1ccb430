//! Judging a column type change: does it rewrite the table, can it lose data?
