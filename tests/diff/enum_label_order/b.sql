CREATE TYPE feeling_kind AS ENUM ('happy', 'sad');
ALTER TYPE feeling_kind ADD VALUE 'meh' BEFORE 'sad';
