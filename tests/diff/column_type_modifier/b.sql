CREATE TABLE t (price numeric(12,2));
