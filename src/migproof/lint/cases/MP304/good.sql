SET lock_timeout = '2s';
CREATE SEQUENCE events_id_seq;
ALTER TABLE events ADD COLUMN id bigint;
ALTER TABLE events ALTER COLUMN id SET DEFAULT nextval('events_id_seq');
