SET lock_timeout = '2s';
ALTER TABLE users RENAME TO accounts;  -- expect: MP402
ALTER TABLE accounts SET SCHEMA archive;  -- expect: MP402
