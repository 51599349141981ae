CREATE TABLE release_identity (id bigint PRIMARY KEY);
