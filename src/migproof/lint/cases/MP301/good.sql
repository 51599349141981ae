SET lock_timeout = '2s';
-- longer varchar and varchar -> text change no rows
ALTER TABLE users ALTER COLUMN name TYPE varchar(100);
ALTER TABLE users ALTER COLUMN name TYPE text;
