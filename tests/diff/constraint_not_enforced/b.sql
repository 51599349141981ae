CREATE TABLE t (a integer, CONSTRAINT t_a_check CHECK (a > 0) NOT ENFORCED);
