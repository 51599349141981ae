-- Installed extensions with their version and schema (the objects they own are left out
-- of every other query: the extension and its version stand for them).
SELECT
    quote_ident(x.extname) AS key,
    x.extname AS name,
    x.extversion AS version,
    n.nspname AS schema,
    d.description AS comment
FROM pg_extension AS x
JOIN pg_namespace AS n ON n.oid = x.extnamespace
LEFT JOIN pg_description AS d
    ON d.objoid = x.oid AND d.classoid = 'pg_extension'::regclass AND d.objsubid = 0
WHERE x.extname <> 'plpgsql'
    AND (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
