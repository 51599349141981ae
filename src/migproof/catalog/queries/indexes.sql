-- Indexes that do not back a constraint (those are properties of their constraint), on
-- tables and materialized views; indexes of partitions cloned from their parent's are left out.
SELECT
    c.oid AS oid,  -- what catalog/watch.py re-reads it by
    quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS key,
    n.nspname AS schema,
    c.relname AS name,
    quote_ident(n.nspname) || '.' || quote_ident(t.relname) AS table,
    i.indisunique AS unique,
    am.amname AS method,
    ARRAY(
        SELECT pg_get_indexdef(i.indexrelid, g.k, true)
            || CASE WHEN i.indoption[g.k - 1] & 1 = 1 THEN ' DESC' ELSE '' END
            || CASE
                WHEN i.indoption[g.k - 1] & 3 = 2 THEN ' NULLS FIRST'
                WHEN i.indoption[g.k - 1] & 3 = 1 THEN ' NULLS LAST'
                ELSE '' END
        FROM generate_series(1, i.indnkeyatts) AS g (k)  -- in order, as unnest() in constraints.sql
    ) AS keys,
    CASE WHEN i.indclass::oid[] && (SELECT array_agg(o.oid) FROM pg_opclass AS o WHERE NOT o.opcdefault)
    THEN ARRAY(
        SELECT (SELECT CASE WHEN o.opcdefault THEN 'default' ELSE quote_ident(o.opcname) END
                FROM pg_opclass AS o WHERE o.oid = u.opc)
        FROM unnest(i.indclass) AS u (opc)
    ) ELSE ARRAY[]::text[] END AS opclasses,  -- empty when every key uses its default
    CASE WHEN i.indnatts > i.indnkeyatts THEN ARRAY(
        SELECT pg_get_indexdef(i.indexrelid, g.k, true)
        FROM generate_series(i.indnkeyatts + 1, i.indnatts) AS g (k)
    ) ELSE ARRAY[]::text[] END AS include,
    pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
    {indnullsnotdistinct} AS nulls_not_distinct,
    i.indisvalid AND i.indisready AS valid,
    ARRAY(SELECT o FROM unnest(c.reloptions) AS o ORDER BY o) AS options,
    d.description AS comment
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_class AS t ON t.oid = i.indrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_am AS am ON am.oid = c.relam
LEFT JOIN pg_description AS d
    ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
WHERE t.relkind IN ('r', 'p', 'm')
    AND NOT c.relispartition
    AND NOT EXISTS (
        SELECT 1 FROM pg_constraint AS k
        WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')
    )
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'
    AND (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
    -- only: AND c.oid = ANY(%(only)s::oid[])
    AND NOT EXISTS (
        SELECT 1 FROM pg_depend AS e
        WHERE e.classid = 'pg_class'::regclass AND e.objid = t.oid AND e.deptype = 'e'
    )
