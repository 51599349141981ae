CREATE TYPE mood AS ENUM ('happy', 'sad');  -- expect: MP608
