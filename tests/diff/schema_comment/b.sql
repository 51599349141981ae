CREATE SCHEMA audit;
COMMENT ON SCHEMA audit IS 'history';
