CREATE TABLE events (name text);
