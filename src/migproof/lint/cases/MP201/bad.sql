SET lock_timeout = '2s';
CREATE INDEX orders_customer_idx ON orders (customer_id);  -- expect: MP201
