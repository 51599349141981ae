CREATE TABLE order_lines (id bigint PRIMARY KEY, quantity integer CHECK (quantity > 0));
