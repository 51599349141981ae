BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE users ADD COLUMN email_lower text;
COMMIT;
-- backfill after the DDL committed, in batches
UPDATE users SET email_lower = lower(email) WHERE id BETWEEN 1 AND 10000;
