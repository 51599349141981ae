CREATE TABLE t (id integer PRIMARY KEY, name text);
COMMENT ON TABLE t IS 'people';
