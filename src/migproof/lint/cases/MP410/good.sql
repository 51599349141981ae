CREATE OR REPLACE VIEW active_users AS SELECT 1 AS id;
-- created and dropped in this migration: nothing else can use them yet
CREATE VIEW scratch_report AS SELECT 1 AS n;
DROP VIEW scratch_report;
CREATE SEQUENCE scratch_seq;
DROP SEQUENCE scratch_seq;
CREATE SCHEMA scratch;
DROP SCHEMA scratch;
