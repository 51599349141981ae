CREATE TABLE t (c varchar(10), CONSTRAINT ck CHECK (((c)::text = ANY (ARRAY[('a'::character varying)::text, ('x'::character varying)::text]))));
