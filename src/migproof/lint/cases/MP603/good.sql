CREATE TABLE logins (id bigint PRIMARY KEY, at timestamptz);
