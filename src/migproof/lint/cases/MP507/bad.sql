BEGIN;  -- expect: MP507
CREATE TABLE accounts (id bigint PRIMARY KEY);
