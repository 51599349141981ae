SET lock_timeout = '2s';
-- migproof: ignore MP201 -- orders holds a few hundred rows
CREATE INDEX orders_customer_idx ON orders (customer_id);
