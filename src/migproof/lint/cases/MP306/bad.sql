SET lock_timeout = '2s';
ALTER TABLE import_rows SET LOGGED;  -- expect: MP306
