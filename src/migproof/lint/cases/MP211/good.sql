SET lock_timeout = '2s';
REINDEX INDEX CONCURRENTLY orders_customer_idx;
