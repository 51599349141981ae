CREATE TYPE feeling_kind AS ENUM ('happy', 'sad');
