SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN score TYPE bigint;  -- expect: MP301
