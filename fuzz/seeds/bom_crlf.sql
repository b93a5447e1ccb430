CREATE TABLE t (a int);
-- straddle:allow drop-table -- reason
DROP TABLE t;
