CREATE TABLE account (id bigint PRIMARY KEY);
CREATE TABLE invoice (id bigint PRIMARY KEY, account_id bigint, amount integer, note text);
CREATE INDEX ix_invoice_account_id ON invoice (account_id);
