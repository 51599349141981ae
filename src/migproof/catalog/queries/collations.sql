-- Collations created by the schema (CREATE COLLATION), not the ones initdb imports. The
-- braced placeholder is the ICU / builtin locale column, whose name depends on the server.
SELECT
    c.oid AS oid,  -- what catalog/watch.py re-reads it by
    quote_ident(n.nspname) || '.' || quote_ident(c.collname) AS key,
    n.nspname AS schema,
    c.collname AS name,
    CASE c.collprovider WHEN 'i' THEN 'icu' WHEN 'c' THEN 'libc' WHEN 'b' THEN 'builtin'
        ELSE c.collprovider::text END AS provider,
    coalesce({colllocale}, c.collcollate) AS locale,
    CASE WHEN c.collprovider = 'c' AND c.collctype IS DISTINCT FROM c.collcollate
        THEN c.collctype END AS lc_ctype,
    c.collisdeterministic AS deterministic,
    d.description AS comment
FROM pg_collation AS c
JOIN pg_namespace AS n ON n.oid = c.collnamespace
LEFT JOIN pg_description AS d
    ON d.objoid = c.oid AND d.classoid = 'pg_collation'::regclass AND d.objsubid = 0
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'
    AND (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
    -- only: AND c.oid = ANY(%(only)s::oid[])
    AND NOT EXISTS (
        SELECT 1 FROM pg_depend AS e
        WHERE e.classid = 'pg_collation'::regclass AND e.objid = c.oid AND e.deptype = 'e'
    )
