SET lock_timeout = '2s';
-- expand: the application writes both, a backfill copies email, reads move;
-- a later release drops email
ALTER TABLE users ADD COLUMN email_address text;
