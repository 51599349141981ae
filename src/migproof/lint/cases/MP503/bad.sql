CREATE TYPE service_account_role AS ENUM ('reader', 'writer');  -- expect: MP503
CREATE TABLE service_accounts (id bigint PRIMARY KEY, role service_account_role NOT NULL);
