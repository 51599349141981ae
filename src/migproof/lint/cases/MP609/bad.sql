SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN city text;
ALTER TABLE users ADD COLUMN country text;  -- expect: MP609
