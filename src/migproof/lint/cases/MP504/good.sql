-- config: protected-schemas = ["entity"]
SET lock_timeout = '2s';
TRUNCATE public.import_cache;
