-- Range types: subtype, operator class, collation, canonical and subtype-difference functions.
SELECT
    t.oid AS oid,  -- what catalog/watch.py re-reads it by
    quote_ident(n.nspname) || '.' || quote_ident(t.typname) AS key,
    n.nspname AS schema,
    t.typname AS name,
    format_type(r.rngsubtype, NULL) AS subtype,
    CASE WHEN o.opcdefault THEN NULL ELSE quote_ident(o.opcname) END AS opclass,
    CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation
        THEN quote_ident(co.collname) END AS collation,
    CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::regprocedure::text END AS canonical,
    CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regprocedure::text END AS subtype_diff,
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
JOIN pg_range AS r ON r.rngtypid = t.oid
JOIN pg_type AS st ON st.oid = r.rngsubtype
JOIN pg_opclass AS o ON o.oid = r.rngsubopc
LEFT JOIN pg_collation AS co ON co.oid = r.rngcollation
WHERE t.typtype = 'r'
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'
    AND (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
    -- only: AND t.oid = ANY(%(only)s::oid[])
    AND NOT EXISTS (
        SELECT 1 FROM pg_depend AS e
        WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e'
    )
