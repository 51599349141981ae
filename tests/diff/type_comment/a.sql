CREATE TYPE status_enum AS ENUM ('new');
