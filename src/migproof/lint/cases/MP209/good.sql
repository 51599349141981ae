-- declare exclusion constraints with the table, before it holds rows
CREATE TABLE reservations (
    id bigint PRIMARY KEY,
    room integer,
    during tsrange,
    CONSTRAINT reservations_no_overlap EXCLUDE USING gist (room WITH =, during WITH &&)
);
