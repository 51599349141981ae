BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;
COMMIT;
SET lock_timeout = '2s';
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;
