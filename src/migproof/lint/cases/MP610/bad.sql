BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE users ADD COLUMN city text;
CREATE TABLE cities (name text PRIMARY KEY);  -- expect: MP610
COMMIT;
