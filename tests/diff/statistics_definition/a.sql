CREATE TABLE t (a integer, b integer, c integer);
CREATE STATISTICS st (ndistinct) ON a, b FROM t;
