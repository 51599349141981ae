SET lock_timeout = '2s';
DROP INDEX orders_customer_idx;  -- expect: MP202
