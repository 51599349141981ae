CREATE TABLE t (id integer PRIMARY KEY, name text);
ALTER TABLE t SET (fillfactor = 70);
