BEGIN;
CREATE TABLE accounts (id bigint PRIMARY KEY);
BEGIN;  -- expect: MP506
CREATE TABLE ledgers (id bigint PRIMARY KEY);
COMMIT;
