CREATE TABLE moods (name text PRIMARY KEY);
