CREATE VIEW v AS SELECT 1 AS one;
GRANT SELECT ON v TO migproof_reader;
