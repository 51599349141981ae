SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN note text;
-- set_config sets it as SET does
SELECT set_config('lock_timeout', '1s', false);
ALTER TABLE orders ADD COLUMN memo text;
