CREATE TABLE users (id bigint PRIMARY KEY, email text, name varchar(50) NOT NULL, score integer);
