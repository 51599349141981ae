CREATE TABLE t (a integer);
ALTER TABLE t ADD CONSTRAINT t_a_check CHECK (a > 0);
