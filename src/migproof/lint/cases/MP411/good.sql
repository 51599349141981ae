SET lock_timeout = '2s';
-- migproof: ignore MP411 -- emails may repeat since release 3.1 (shared inboxes)
ALTER TABLE users DROP CONSTRAINT users_email_key;
