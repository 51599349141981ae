BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE users ADD COLUMN email_lower text;
UPDATE users SET email_lower = lower(email);  -- expect: MP213
COMMIT;
