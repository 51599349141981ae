-- plain VACUUM makes dead space reusable without locking out reads and writes;
-- use pg_repack for an online rebuild
VACUUM (ANALYZE) orders;
