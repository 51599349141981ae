CREATE TABLE events (id bigint PRIMARY KEY, payload json);  -- expect: MP601
