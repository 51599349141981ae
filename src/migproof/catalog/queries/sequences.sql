-- Sequences with their options and the column that owns them (serial and identity too).
SELECT
    c.oid AS oid,  -- what catalog/watch.py re-reads it by
    quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS key,
    n.nspname AS schema,
    c.relname AS name,
    format_type(s.seqtypid, NULL) AS type,
    s.seqstart AS start,
    s.seqincrement AS increment,
    s.seqmin AS min_value,
    s.seqmax AS max_value,
    s.seqcache AS cache,
    s.seqcycle AS cycle,
    c.relpersistence = 'u' AS unlogged,
    (
        SELECT quote_ident(tn.nspname) || '.' || quote_ident(t.relname) || '.' || quote_ident(a.attname)
        FROM pg_depend AS o
        JOIN pg_class AS t ON t.oid = o.refobjid
        JOIN pg_namespace AS tn ON tn.oid = t.relnamespace
        JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = o.refobjsubid
        WHERE o.classid = 'pg_class'::regclass AND o.objid = c.oid
            AND o.refclassid = 'pg_class'::regclass AND o.refobjsubid > 0
            AND o.deptype IN ('a', 'i')
        LIMIT 1
    ) AS owned_by,
    d.description AS comment,
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
FROM pg_sequence AS s
JOIN pg_class AS c ON c.oid = s.seqrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_description AS d
    ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
WHERE true
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'
    AND (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
    -- only: AND c.oid = ANY(%(only)s::oid[])
    AND NOT EXISTS (
        SELECT 1 FROM pg_depend AS e
        WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e'
    )
