CREATE TABLE users (id bigint PRIMARY KEY, email text);
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
