CREATE TABLE service_accounts (id uuid PRIMARY KEY);
