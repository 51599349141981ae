SET lock_timeout = '2s';
-- migproof: ignore MP201 -- expect: MP903
CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
