CREATE TABLE accounts (id bigint PRIMARY KEY,);  -- expect: MP901
