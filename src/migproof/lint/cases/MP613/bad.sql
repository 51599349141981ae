CREATE TABLE jobs (id bigint PRIMARY KEY);  -- expect: MP613
