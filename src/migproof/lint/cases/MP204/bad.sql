SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk  -- expect: MP204
    FOREIGN KEY (customer_id) REFERENCES customers (id);
