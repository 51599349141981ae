-- a table created in the same migration may be dropped
CREATE TABLE import_batch (id bigint PRIMARY KEY);
DROP TABLE import_batch;
SET lock_timeout = '2s';
-- migproof: ignore MP404 -- unused since release 2.4, backed up in ticket OPS-12
DROP TABLE legacy_sessions;
-- a type created in the same migration may be dropped, with CASCADE too
CREATE TYPE kind AS ENUM ('a', 'b');
DROP TYPE kind CASCADE;
-- without CASCADE it drops only a type no column uses (else it fails); MP410, off by default
DROP TYPE retired;
-- an earlier migration's type that no column uses drops nothing else
DROP TYPE unused_kind CASCADE;
