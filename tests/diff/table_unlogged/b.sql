CREATE UNLOGGED TABLE t (id integer PRIMARY KEY, name text);
