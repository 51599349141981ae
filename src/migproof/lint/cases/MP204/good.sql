SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
-- validation lets writes continue; ideally in the next migration
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
