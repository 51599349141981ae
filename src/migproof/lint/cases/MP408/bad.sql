SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN plan text NOT NULL;  -- expect: MP408
