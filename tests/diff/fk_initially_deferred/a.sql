CREATE TABLE account (id bigint PRIMARY KEY);
CREATE TABLE invoice (id bigint PRIMARY KEY, account_id bigint, amount integer, note text);
ALTER TABLE invoice ADD CONSTRAINT invoice_account_id_fkey FOREIGN KEY (account_id) REFERENCES account (id) DEFERRABLE;
