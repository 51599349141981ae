SET lock_timeout = '2s';
-- migproof: ignore MP403 -- release 2.4 stopped reading legacy_flag
ALTER TABLE users DROP COLUMN legacy_flag;
