CREATE TABLE events (id bigint, name text);
CREATE UNIQUE INDEX events_id_key ON events (id);
