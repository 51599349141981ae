SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN score TYPE bigint;  -- expect: MP301
-- a lower precision rounds every value
ALTER TABLE users ALTER COLUMN lasts TYPE interval(0);  -- expect: MP301
-- converted in the session's time zone: unless it is UTC, every row is rewritten
ALTER TABLE users ALTER COLUMN created_at TYPE timestamptz;  -- expect: MP301
