CREATE TABLE t (a integer, CONSTRAINT t_a_check CHECK (a > 0));
COMMENT ON CONSTRAINT t_a_check ON t IS 'positive';
