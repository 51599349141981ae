SET lock_timeout = '2s';
-- migproof: ignore MP406 -- every running release handles a missing email
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
