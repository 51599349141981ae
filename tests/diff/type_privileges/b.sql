CREATE TYPE status_enum AS ENUM ('new');
REVOKE USAGE ON TYPE status_enum FROM PUBLIC;
