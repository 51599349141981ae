CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, total numeric(12, 2));
CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint REFERENCES orders (id));
