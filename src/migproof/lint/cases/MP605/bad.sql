CREATE TABLE jobs (id bigserial PRIMARY KEY);  -- expect: MP605
