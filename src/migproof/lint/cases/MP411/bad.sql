SET lock_timeout = '2s';
ALTER TABLE users DROP CONSTRAINT users_email_key;  -- expect: MP411
