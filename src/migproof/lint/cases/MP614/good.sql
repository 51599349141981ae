SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY orders_ab_idx ON orders (a, b);
