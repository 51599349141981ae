SET lock_timeout = '2s';
-- migproof: ignore MP440 -- expect: MP902
-- migproof: ignore MP404 -- unused since release 2.4
DROP TABLE legacy_sessions;
