CREATE TABLE tags (id bigint PRIMARY KEY, label text CHECK (length(label) <= 255));
