CREATE SCHEMA audit;
GRANT USAGE ON SCHEMA audit TO migproof_reader;
