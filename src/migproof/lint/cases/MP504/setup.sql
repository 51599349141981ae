CREATE SCHEMA entity;
CREATE TABLE entity.release_identity (id bigint PRIMARY KEY);
CREATE TABLE import_cache (id bigint PRIMARY KEY);
