-- Domains: base type, NOT NULL, default, collation and named check constraints.
SELECT
    t.oid AS oid,  -- what catalog/watch.py re-reads it by
    quote_ident(n.nspname) || '.' || quote_ident(t.typname) AS key,
    n.nspname AS schema,
    t.typname AS name,
    format_type(t.typbasetype, t.typtypmod) AS type,
    t.typnotnull AS not_null,
    pg_get_expr(t.typdefaultbin, 0, true) AS default,
    CASE WHEN t.typcollation <> b.typcollation THEN
        CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(co.collname)
             ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
    END AS collation,
    ARRAY(
        SELECT k.conname || ': ' || pg_get_constraintdef(k.oid, true)
        FROM pg_constraint AS k
        WHERE k.contypid = t.oid AND k.contype = 'c'
        ORDER BY k.conname
    ) AS constraints,
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
JOIN pg_type AS b ON b.oid = t.typbasetype
LEFT JOIN pg_collation AS co ON co.oid = t.typcollation
LEFT JOIN pg_namespace AS cn ON cn.oid = co.collnamespace
WHERE t.typtype = 'd'
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'
    AND (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
    -- only: AND t.oid = ANY(%(only)s::oid[])
    AND NOT EXISTS (
        SELECT 1 FROM pg_depend AS e
        WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e'
    )
