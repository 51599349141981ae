SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY orders_abcd_idx ON orders (a, b, c, d);  -- expect: MP614
