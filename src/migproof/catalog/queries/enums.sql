-- Enum types with their labels in order.
SELECT
    t.oid AS oid,  -- what catalog/watch.py re-reads it by
    quote_ident(n.nspname) || '.' || quote_ident(t.typname) AS key,
    n.nspname AS schema,
    t.typname AS name,
    ARRAY(SELECT e.enumlabel FROM pg_enum AS e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
        AS labels,
    d.description AS comment,
    ARRAY(
        SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || '='
            || string_agg(a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END, ','
                          ORDER BY a.privilege_type)
        FROM aclexplode(coalesce(t.typacl, acldefault('T', t.typowner))) AS a
        WHERE a.grantee <> t.typowner
        GROUP BY a.grantee
        ORDER BY 1
    ) AS privileges
FROM pg_type AS t
JOIN pg_namespace AS n ON n.oid = t.typnamespace
LEFT JOIN pg_description AS d
    ON d.objoid = t.oid AND d.classoid = 'pg_type'::regclass AND d.objsubid = 0
WHERE t.typtype = 'e'
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'
    AND (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
    -- only: AND t.oid = ANY(%(only)s::oid[])
    AND NOT EXISTS (
        SELECT 1 FROM pg_depend AS e
        WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e'
    )
