CREATE TABLE release_identity (id bigint PRIMARY KEY);
CREATE TABLE account (id bigint, domain_id bigint, PRIMARY KEY (id, domain_id));
