-- Extended statistics objects (CREATE STATISTICS).
SELECT
    s.oid AS oid,  -- what catalog/watch.py re-reads it by
    quote_ident(n.nspname) || '.' || quote_ident(s.stxname) AS key,
    n.nspname AS schema,
    s.stxname AS name,
    quote_ident(tn.nspname) || '.' || quote_ident(t.relname) AS table,
    pg_get_statisticsobjdef(s.oid) AS definition,
    d.description AS comment
FROM pg_statistic_ext AS s
JOIN pg_namespace AS n ON n.oid = s.stxnamespace
JOIN pg_class AS t ON t.oid = s.stxrelid
JOIN pg_namespace AS tn ON tn.oid = t.relnamespace
LEFT JOIN pg_description AS d
    ON d.objoid = s.oid AND d.classoid = 'pg_statistic_ext'::regclass AND d.objsubid = 0
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'
    AND (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
    -- only: AND s.oid = ANY(%(only)s::oid[])
