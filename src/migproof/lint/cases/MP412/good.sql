SET lock_timeout = '2s';
-- a nullable column: an insert that leaves it out stores NULL
ALTER TABLE orders ALTER COLUMN note DROP DEFAULT;
-- a default changed, not dropped
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'pending';
