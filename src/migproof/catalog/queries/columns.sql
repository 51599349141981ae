-- Live columns of tables; attnum is renumbered 1, 2, 3 … among live columns in Python, so
-- gaps left by dropped columns do not count.
SELECT
    quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS table,
    a.attname AS name,
    a.attnum::int AS position,  -- renumbered among live columns by the caller
    format_type(a.atttypid, a.atttypmod) AS type,
    a.attnotnull AS not_null,
    CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS default,
    CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END AS identity,
    CASE WHEN a.attgenerated <> '' THEN
        pg_get_expr(ad.adbin, ad.adrelid)
        || CASE a.attgenerated WHEN 's' THEN ' STORED' WHEN 'v' THEN ' VIRTUAL' ELSE '' END
    END AS generated,
    CASE WHEN a.attcollation <> t.typcollation THEN
        CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(co.collname)
             ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
    END AS collation,
    d.description AS comment,
    CASE WHEN a.attacl IS NULL THEN ARRAY[]::text[] ELSE ARRAY(
        SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END || '='
            || string_agg(x.privilege_type || CASE WHEN x.is_grantable THEN '*' ELSE '' END, ','
                                 ORDER BY x.privilege_type)
        FROM aclexplode(a.attacl) AS x
        WHERE x.grantee <> c.relowner
        GROUP BY x.grantee
        ORDER BY 1
    ) END AS privileges
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_type AS t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef AS ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_collation AS co ON co.oid = a.attcollation
LEFT JOIN pg_namespace AS cn ON cn.oid = co.collnamespace
LEFT JOIN pg_description AS d
    ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = a.attnum
WHERE c.relkind IN ('r', 'p', 'f')
    AND a.attnum > 0 AND NOT a.attisdropped
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'
    AND (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
    -- only: AND c.oid = ANY(%(only)s::oid[])
