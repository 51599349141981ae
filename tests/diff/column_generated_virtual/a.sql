CREATE TABLE t (a integer, b integer GENERATED ALWAYS AS (a * 2) STORED);
