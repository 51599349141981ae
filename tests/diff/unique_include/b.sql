CREATE TABLE t (a integer, b integer, CONSTRAINT t_a_key UNIQUE (a) INCLUDE (b));
