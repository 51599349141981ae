-- ALTER DEFAULT PRIVILEGES: what a role's future objects grant, per schema or everywhere.
SELECT
    quote_ident(pg_get_userbyid(da.defaclrole)) || ' ' || ot.object_type
        || ' in ' || coalesce(quote_ident(n.nspname), 'all schemas') AS key,
    pg_get_userbyid(da.defaclrole) AS role,
    n.nspname AS schema,
    ot.object_type AS object_type,
    ARRAY(
        SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || '='
            || string_agg(a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END, ','
                          ORDER BY a.privilege_type)
        FROM aclexplode(da.defaclacl) AS a
        WHERE a.grantee <> da.defaclrole
        GROUP BY a.grantee
        ORDER BY 1
    ) AS privileges
FROM pg_default_acl AS da
CROSS JOIN LATERAL (
    SELECT CASE da.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
        WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas'
        WHEN 'L' THEN 'large objects' ELSE da.defaclobjtype::text END AS object_type
) AS ot
LEFT JOIN pg_namespace AS n ON n.oid = da.defaclnamespace
WHERE da.defaclnamespace = 0 OR (
    (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
)
