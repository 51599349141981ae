-- the same CHECK as pg_dump prints it, parsed again (a bootstrap file)
CREATE TABLE t (c varchar(10), CONSTRAINT ck CHECK (((c)::text = ANY (ARRAY[('a'::character varying)::text, ('b'::character varying)::text]))));
