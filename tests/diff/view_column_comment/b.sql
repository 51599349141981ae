CREATE VIEW v AS SELECT 1 AS one;
COMMENT ON COLUMN v.one IS 'the number one';
