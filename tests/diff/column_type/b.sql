CREATE SCHEMA entity;
CREATE TABLE entity.release_identity (id integer, source varchar(64));
