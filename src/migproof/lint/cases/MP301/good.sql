SET lock_timeout = '2s';
-- longer varchar and varchar -> text change no rows
ALTER TABLE users ALTER COLUMN name TYPE varchar(100);
ALTER TABLE users ALTER COLUMN name TYPE text;
-- a higher precision of a time, timestamp or interval, and xml -> text, change no rows
ALTER TABLE users ALTER COLUMN seen_at TYPE timestamp(6);
ALTER TABLE users ALTER COLUMN lasts TYPE interval;
ALTER TABLE users ALTER COLUMN profile TYPE text;
-- in a UTC session, timestamp -> timestamptz changes no rows (PostgreSQL 12+)
SET TIME ZONE 'UTC';
ALTER TABLE users ALTER COLUMN created_at TYPE timestamptz;
