CREATE TABLE logins (id bigint PRIMARY KEY, at timestamp);  -- expect: MP603
