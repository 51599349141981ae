CREATE TABLE legacy_sessions (id bigint PRIMARY KEY);
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE person (id bigint PRIMARY KEY, current_mood mood);
CREATE TYPE retired AS ENUM ('x');
