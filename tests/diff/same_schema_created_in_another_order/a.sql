CREATE TYPE status_enum AS ENUM ('new', 'done');
CREATE TABLE account (id bigint PRIMARY KEY);
CREATE TABLE invoice (id bigint PRIMARY KEY, account_id bigint, amount integer, note text);
CREATE INDEX ix ON invoice (account_id);
ALTER TABLE invoice ADD CONSTRAINT invoice_account_id_fkey FOREIGN KEY (account_id) REFERENCES account (id);
CREATE VIEW big AS SELECT id FROM invoice WHERE amount > 10;
CREATE SEQUENCE s;
CREATE FUNCTION f(x integer) RETURNS integer LANGUAGE sql AS 'SELECT x';
