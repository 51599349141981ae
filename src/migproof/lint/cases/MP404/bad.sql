SET lock_timeout = '2s';
DROP TABLE legacy_sessions;  -- expect: MP404
-- CASCADE drops every column of the type, with its data
DROP TYPE mood CASCADE;  -- expect: MP404
DROP TYPE tag CASCADE;  -- expect: MP404
DROP TYPE billing.plan CASCADE;  -- expect: MP404
DROP DOMAIN positive_int CASCADE;  -- expect: MP404
DROP EXTENSION citext CASCADE;  -- expect: MP404
