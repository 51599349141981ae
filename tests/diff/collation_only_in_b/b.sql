CREATE COLLATION byte_order (provider = libc, locale = 'C');
CREATE TABLE t (code text);
