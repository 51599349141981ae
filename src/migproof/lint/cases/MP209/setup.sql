CREATE TABLE bookings (id bigint PRIMARY KEY, room integer, during tsrange);
