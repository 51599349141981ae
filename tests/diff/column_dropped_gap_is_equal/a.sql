CREATE TABLE t (a integer, gone integer, b text);
ALTER TABLE t DROP COLUMN gone;
