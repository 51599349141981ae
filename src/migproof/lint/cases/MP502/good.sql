SET lock_timeout = '2s';
CREATE TABLE release_reconciliation_log (
    id bigint PRIMARY KEY,
    identity_id bigint NOT NULL REFERENCES release_identity (id)
);
-- PostgreSQL does not index the referencing side
CREATE INDEX idx_release_reconciliation_log_identity_id
    ON release_reconciliation_log (identity_id);
-- a unique index on some of the key's columns finds the one row that all of them match
CREATE TABLE local_user (
    id bigint PRIMARY KEY,
    user_id bigint NOT NULL UNIQUE,
    domain_id bigint NOT NULL,
    FOREIGN KEY (user_id, domain_id) REFERENCES account (id, domain_id)
);
