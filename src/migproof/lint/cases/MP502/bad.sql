SET lock_timeout = '2s';
CREATE TABLE release_reconciliation_log (  -- expect: MP502
    id bigint PRIMARY KEY,
    identity_id bigint NOT NULL REFERENCES release_identity (id)
);
-- a partial unique index does not serve every lookup
CREATE TABLE remote_user (  -- expect: MP502
    id bigint PRIMARY KEY,
    user_id bigint NOT NULL,
    domain_id bigint NOT NULL,
    FOREIGN KEY (user_id, domain_id) REFERENCES account (id, domain_id)
);
CREATE UNIQUE INDEX remote_user_active ON remote_user (user_id) WHERE id > 0;
