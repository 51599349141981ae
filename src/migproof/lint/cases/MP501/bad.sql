SET lock_timeout = '2s';
CREATE TABLE audit_log (  -- expect: MP501
    id bigint PRIMARY KEY,
    service_account_id integer REFERENCES service_accounts (id)
);
CREATE INDEX audit_log_service_account_idx ON audit_log (service_account_id);
