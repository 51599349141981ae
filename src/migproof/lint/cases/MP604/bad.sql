CREATE TABLE counters (id bigint PRIMARY KEY, hits integer);  -- expect: MP604
