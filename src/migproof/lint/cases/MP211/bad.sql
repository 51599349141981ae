SET lock_timeout = '2s';
REINDEX INDEX orders_customer_idx;  -- expect: MP211
