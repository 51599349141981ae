SET lock_timeout = '2s';
ALTER TABLE events ADD CONSTRAINT events_id_not_null CHECK (id IS NOT NULL) NOT VALID;
ALTER TABLE events VALIDATE CONSTRAINT events_id_not_null;
ALTER TABLE events ALTER COLUMN id SET NOT NULL;
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_key;
