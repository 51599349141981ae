-- Functions, procedures, aggregates: signature, language, body and attributes.
-- The braced placeholder tests prosqlbody (SQL-standard bodies), a column from PostgreSQL 14
-- on. Functions a type made for itself (range constructors) are left out.
SELECT
    p.oid AS oid,  -- what catalog/watch.py re-reads it by
    quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS key,
    n.nspname AS schema,
    p.proname AS name,
    pg_get_function_identity_arguments(p.oid) AS identity_arguments,
    CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window function'
        ELSE 'function' END AS kind,
    pg_get_function_arguments(p.oid) AS arguments,
    pg_get_function_result(p.oid) AS returns,
    l.lanname AS language,
    CASE WHEN {has_sql_body}
        THEN substring(pg_get_functiondef(p.oid) FROM E'\\n((RETURN |BEGIN ATOMIC).*)$')
        ELSE p.prosrc END AS body,
    CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END
        AS volatility,
    p.proisstrict AS strict,
    p.prosecdef AS security_definer,
    p.proleakproof AS leakproof,
    CASE p.proparallel WHEN 's' THEN 'SAFE' WHEN 'r' THEN 'RESTRICTED' ELSE 'UNSAFE' END AS parallel,
    ARRAY(SELECT o FROM unnest(p.proconfig) AS o ORDER BY o) AS config,
    d.description AS comment,
    ARRAY(
        SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || '='
            || string_agg(a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END, ','
                          ORDER BY a.privilege_type)
        FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
        WHERE a.grantee <> p.proowner
        GROUP BY a.grantee
        ORDER BY 1
    ) AS privileges
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
JOIN pg_language AS l ON l.oid = p.prolang
LEFT JOIN pg_description AS d
    ON d.objoid = p.oid AND d.classoid = 'pg_proc'::regclass AND d.objsubid = 0
WHERE true
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'
    AND (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
    -- only: AND p.oid = ANY(%(only)s::oid[])
    AND NOT EXISTS (
        SELECT 1 FROM pg_depend AS e
        WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype IN ('e', 'i')
    )
