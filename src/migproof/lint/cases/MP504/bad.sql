-- config: protected-schemas = ["entity"]
SET lock_timeout = '2s';
TRUNCATE entity.release_identity;  -- expect: MP504
