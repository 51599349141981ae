CREATE TABLE t (a integer, b integer);
CREATE STATISTICS st (dependencies) ON a, b FROM t;
