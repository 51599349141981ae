-- Tables (ordinary, partitioned, foreign): persistence, partitioning, inheritance, RLS,
-- replica identity, storage options, comments, privileges.
SELECT
    c.oid AS oid,  -- what catalog/watch.py re-reads it by
    quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS key,
    n.nspname AS schema,
    c.relname AS name,
    CASE c.relkind WHEN 'p' THEN 'partitioned table' WHEN 'f' THEN 'foreign table' ELSE 'table' END
        AS kind,
    c.relpersistence = 'u' AS unlogged,
    CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
    CASE WHEN c.relispartition THEN (
        SELECT quote_ident(pn.nspname) || '.' || quote_ident(p.relname)
        FROM pg_inherits AS i
        JOIN pg_class AS p ON p.oid = i.inhparent
        JOIN pg_namespace AS pn ON pn.oid = p.relnamespace
        WHERE i.inhrelid = c.oid
    ) END AS partition_of,
    CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
    ARRAY(
        SELECT quote_ident(pn.nspname) || '.' || quote_ident(p.relname)
        FROM pg_inherits AS i
        JOIN pg_class AS p ON p.oid = i.inhparent
        JOIN pg_namespace AS pn ON pn.oid = p.relnamespace
        WHERE i.inhrelid = c.oid AND NOT c.relispartition
        ORDER BY i.inhseqno
    ) AS inherits,
    c.relrowsecurity AS row_security,
    c.relforcerowsecurity AS force_row_security,
    CASE c.relreplident WHEN 'n' THEN 'NOTHING' WHEN 'f' THEN 'FULL'
        WHEN 'i' THEN 'USING INDEX ' || coalesce((
            SELECT quote_ident(ic.relname) FROM pg_index AS x JOIN pg_class AS ic ON ic.oid = x.indexrelid
            WHERE x.indrelid = c.oid AND x.indisreplident), '?')
        ELSE 'DEFAULT' END AS replica_identity,
    ARRAY(SELECT o FROM unnest(c.reloptions) AS o ORDER BY o) AS options,
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
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_description AS d
    ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
WHERE c.relkind IN ('r', 'p', 'f')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'
    AND (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
    -- only: AND c.oid = ANY(%(only)s::oid[])
    AND c.relname <> ALL(%(exclude_tables)s::text[])
    AND n.nspname || '.' || c.relname <> ALL(%(exclude_tables)s::text[])
    AND NOT EXISTS (
        SELECT 1 FROM pg_depend AS e
        WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e'
    )
