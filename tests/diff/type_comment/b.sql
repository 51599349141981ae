CREATE TYPE status_enum AS ENUM ('new');
COMMENT ON TYPE status_enum IS 'state';
