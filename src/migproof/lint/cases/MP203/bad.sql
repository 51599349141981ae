BEGIN;
SET LOCAL lock_timeout = '2s';
CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);  -- expect: MP203
COMMIT;
