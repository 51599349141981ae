CREATE TABLE t (c varchar(10), CONSTRAINT ck CHECK (c IN ('a', 'b')));
