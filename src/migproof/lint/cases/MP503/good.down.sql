DROP TABLE service_accounts;
DROP TYPE service_account_role;
