SET lock_timeout = '2s';
CREATE TABLE release_reconciliation_log (
    id bigint PRIMARY KEY,
    identity_id bigint NOT NULL REFERENCES release_identity (id)
);
-- PostgreSQL does not index the referencing side
CREATE INDEX idx_release_reconciliation_log_identity_id
    ON release_reconciliation_log (identity_id);
