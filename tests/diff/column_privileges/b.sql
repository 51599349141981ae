CREATE TABLE t (a integer, b integer);
GRANT UPDATE (b) ON t TO migproof_writer;
