CREATE TYPE pair AS (x integer, y integer);
