SET lock_timeout = '2s';
CREATE TABLE release_reconciliation_log (  -- expect: MP502
    id bigint PRIMARY KEY,
    identity_id bigint NOT NULL REFERENCES release_identity (id)
);
