CREATE TABLE t (id integer PRIMARY KEY, name text);
GRANT SELECT ON t TO migproof_reader;
