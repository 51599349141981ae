CREATE UNLOGGED TABLE import_rows (id bigint PRIMARY KEY, payload text);
