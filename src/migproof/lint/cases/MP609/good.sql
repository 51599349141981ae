SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN city text, ADD COLUMN country text;
