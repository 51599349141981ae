SET lock_timeout = '2s';
-- constant and stable defaults are free since PostgreSQL 11
ALTER TABLE users ADD COLUMN status text DEFAULT 'active';
ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now();
-- a volatile default for new rows only; backfill old rows in batches
ALTER TABLE users ADD COLUMN token uuid;
ALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid();
