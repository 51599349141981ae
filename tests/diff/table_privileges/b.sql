CREATE TABLE t (id integer PRIMARY KEY, name text);
GRANT SELECT, INSERT ON t TO migproof_reader;
