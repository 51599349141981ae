SET lock_timeout = '2s';
TRUNCATE orders CASCADE;  -- expect: MP407
