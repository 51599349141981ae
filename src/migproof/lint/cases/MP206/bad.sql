BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;  -- expect: MP206
COMMIT;
-- one ALTER TABLE takes the strongest lock of its subcommands, for the scan too
SET lock_timeout = '2s';
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive, ADD COLUMN note text;  -- expect: MP206
