SET lock_timeout = '2s';
ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap  -- expect: MP209
    EXCLUDE USING gist (room WITH =, during WITH &&);
