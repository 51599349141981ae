CREATE TABLE accounts (id bigint PRIMARY KEY, email text);
-- a table created in the same migration has no users yet: it may move
CREATE SCHEMA archive;
ALTER TABLE accounts SET SCHEMA archive;
