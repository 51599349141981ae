-- Row-level security policies.
SELECT
    p.oid AS oid,  -- what catalog/watch.py re-reads it by
    quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(p.polname) AS key,
    quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS table,
    p.polname AS name,
    CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
        WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command,
    p.polpermissive AS permissive,
    ARRAY(
        SELECT CASE WHEN r.role = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r.role) END
        FROM unnest(p.polroles) AS r (role)
        ORDER BY 1
    ) AS roles,
    pg_get_expr(p.polqual, p.polrelid, true) AS using,
    pg_get_expr(p.polwithcheck, p.polrelid, true) AS with_check,
    d.description AS comment
FROM pg_policy AS p
JOIN pg_class AS c ON c.oid = p.polrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_description AS d
    ON d.objoid = p.oid AND d.classoid = 'pg_policy'::regclass AND d.objsubid = 0
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
    -- only: AND p.oid = ANY(%(only)s::oid[])
