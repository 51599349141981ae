CREATE TABLE account (id bigint PRIMARY KEY);
CREATE TABLE invoice (id bigint PRIMARY KEY, account_id bigint, amount integer, note text);
CREATE INDEX ix ON invoice (account_id);
