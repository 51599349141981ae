CREATE TABLE users (
    id bigint PRIMARY KEY, email text, name varchar(50), score integer,
    seen_at timestamp(3), created_at timestamp, lasts interval(3), profile xml
);
