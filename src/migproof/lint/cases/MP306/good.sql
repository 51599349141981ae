SET lock_timeout = '2s';
-- a new logged table, filled in batches, then swapped in by name
CREATE TABLE import_rows_logged (id bigint PRIMARY KEY, payload text);
