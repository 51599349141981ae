SET lock_timeout = '2s';
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_key;  -- expect: MP215
