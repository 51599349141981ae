SET lock_timeout = '2s';
-- a plain column, filled by a trigger for new rows and a batched backfill for old ones
ALTER TABLE items ADD COLUMN total numeric;
