CREATE TABLE booking (room integer, during tstzrange, CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&));
