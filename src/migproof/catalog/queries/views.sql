-- Views and materialized views, with their normalised definition.
SELECT
    c.oid AS oid,  -- what catalog/watch.py re-reads it by
    quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS key,
    n.nspname AS schema,
    c.relname AS name,
    CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END AS kind,
    pg_get_viewdef(c.oid, true) AS definition,
    ARRAY(SELECT o FROM unnest(c.reloptions) AS o ORDER BY o) AS options,
    d.description AS comment,
    ARRAY(
        SELECT quote_ident(a.attname) || ': ' || cd.description
        FROM pg_description AS cd
        JOIN pg_attribute AS a ON a.attrelid = cd.objoid AND a.attnum = cd.objsubid
        WHERE cd.objoid = c.oid AND cd.classoid = 'pg_class'::regclass AND cd.objsubid > 0
        ORDER BY a.attnum
    ) AS column_comments,
    -- a NULL acl is the default: the owner's privileges alone, none to list
    CASE WHEN c.relacl IS NULL THEN ARRAY[]::text[] ELSE ARRAY(
        SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || '='
            || string_agg(a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END, ','
                          ORDER BY a.privilege_type)
        FROM aclexplode(c.relacl) AS a
        WHERE a.grantee <> c.relowner
        GROUP BY a.grantee
        ORDER BY 1
    ) END AS privileges
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_description AS d
    ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
WHERE c.relkind IN ('v', 'm')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'
    AND (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
    -- only: AND c.oid = ANY(%(only)s::oid[])
    AND NOT EXISTS (
        SELECT 1 FROM pg_depend AS e
        WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e'
    )
