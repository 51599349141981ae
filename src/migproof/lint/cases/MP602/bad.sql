CREATE TABLE tags (id bigint PRIMARY KEY, label varchar(255));  -- expect: MP602
