CREATE TABLE t (a integer, c date);
ALTER TABLE t ADD COLUMN b text;
