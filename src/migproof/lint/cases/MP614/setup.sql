CREATE TABLE orders (id bigint PRIMARY KEY, a int, b int, c int, d int);
