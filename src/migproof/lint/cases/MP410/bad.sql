DROP VIEW active_users;  -- expect: MP410
