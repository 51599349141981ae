BEGIN;
CREATE TABLE accounts (id bigint PRIMARY KEY);
CREATE TABLE ledgers (id bigint PRIMARY KEY);
COMMIT;
