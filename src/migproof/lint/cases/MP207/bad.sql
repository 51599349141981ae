SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN email SET NOT NULL;  -- expect: MP207
