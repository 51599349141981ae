CREATE TABLE t (id integer PRIMARY KEY, name text);
CREATE TABLE t2 (id integer);
CREATE INDEX t2_id ON t2 (id);
