CREATE EXTENSION btree_gist;
CREATE TABLE booking (room integer, during tstzrange, CONSTRAINT booking_pkey PRIMARY KEY (room, during));
