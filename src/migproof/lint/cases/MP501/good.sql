SET lock_timeout = '2s';
CREATE TABLE audit_log (
    id bigint PRIMARY KEY,
    service_account_id uuid REFERENCES service_accounts (id)
);
CREATE INDEX audit_log_service_account_idx ON audit_log (service_account_id);
