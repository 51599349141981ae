-- User triggers on tables and views (internal ones, such as foreign-key triggers, and
-- clones on partitions are left out).
SELECT
    tg.oid AS oid,  -- what catalog/watch.py re-reads it by
    quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(tg.tgname) AS key,
    quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS table,
    tg.tgname AS name,
    pg_get_triggerdef(tg.oid, true) AS definition,
    CASE tg.tgenabled WHEN 'O' THEN 'ENABLED' WHEN 'D' THEN 'DISABLED' WHEN 'R' THEN 'REPLICA'
        WHEN 'A' THEN 'ALWAYS' END AS enabled,
    d.description AS comment
FROM pg_trigger AS tg
JOIN pg_class AS c ON c.oid = tg.tgrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_description AS d
    ON d.objoid = tg.oid AND d.classoid = 'pg_trigger'::regclass AND d.objsubid = 0
WHERE NOT tg.tgisinternal AND tg.tgparentid = 0
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'
    AND (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
    -- only: AND tg.oid = ANY(%(only)s::oid[])
