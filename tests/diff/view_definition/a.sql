CREATE TABLE account (id bigint PRIMARY KEY);
CREATE TABLE invoice (id bigint PRIMARY KEY, account_id bigint, amount integer, note text);
CREATE VIEW big AS SELECT id FROM invoice WHERE amount > 10;
