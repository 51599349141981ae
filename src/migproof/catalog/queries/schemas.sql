-- Schemas, their comments and privileges (grants to roles other than the owner).
SELECT
    quote_ident(n.nspname) AS key,
    n.nspname AS name,
    d.description AS comment,
    ARRAY(
        SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || '='
            || string_agg(a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END, ','
                                 ORDER BY a.privilege_type)
        FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) AS a
        WHERE a.grantee <> n.nspowner
        GROUP BY a.grantee
        ORDER BY 1
    ) AS privileges
FROM pg_namespace AS n
LEFT JOIN pg_description AS d
    ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass AND d.objsubid = 0
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'
    AND (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
    AND NOT EXISTS (
        SELECT 1 FROM pg_depend AS e
        WHERE e.classid = 'pg_namespace'::regclass AND e.objid = n.oid AND e.deptype = 'e'
    )
