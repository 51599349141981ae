-- Table constraints: primary key, unique, foreign key, check, exclusion (NOT NULL is a
-- column property; constraints cloned onto partitions are their parent's).
-- conenforced, conperiod (18) and indnullsnotdistinct (15) are newer columns: the braced placeholders
-- are filled in by snapshot.py with the column, or its implied value on older servers.
SELECT
    quote_ident(n.nspname) || '.' || quote_ident(t.relname) AS table,
    k.conname AS name,
    CASE k.contype WHEN 'p' THEN 'PRIMARY KEY' WHEN 'u' THEN 'UNIQUE' WHEN 'f' THEN 'FOREIGN KEY'
        WHEN 'c' THEN 'CHECK' WHEN 'x' THEN 'EXCLUDE' WHEN 't' THEN 'TRIGGER' ELSE k.contype::text END
        AS kind,
    -- A scalar subquery per element of an unnest() keeps the array's order (no join, no
    -- sort to reorder it) and costs a third of a join and an ORDER BY on the ordinality.
    CASE WHEN k.contype IN ('p', 'u', 'f') THEN ARRAY(
        SELECT (SELECT a.attname FROM pg_attribute AS a
                WHERE a.attrelid = k.conrelid AND a.attnum = u.attnum)
        FROM unnest(k.conkey) AS u (attnum)
    ) ELSE ARRAY[]::name[] END AS columns,
    CASE WHEN k.contype = 'f' THEN quote_ident(fn.nspname) || '.' || quote_ident(ft.relname) END
        AS "references",
    CASE WHEN k.contype = 'f' THEN ARRAY(
        SELECT (SELECT a.attname FROM pg_attribute AS a
                WHERE a.attrelid = k.confrelid AND a.attnum = u.attnum)
        FROM unnest(k.confkey) AS u (attnum)
    ) ELSE ARRAY[]::name[] END AS referenced_columns,
    CASE WHEN k.contype = 'f' THEN CASE k.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
        WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END END AS on_delete,
    CASE WHEN k.contype = 'f' THEN CASE k.confupdtype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
        WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END END AS on_update,
    CASE WHEN k.contype = 'f' THEN CASE k.confmatchtype WHEN 'f' THEN 'FULL' WHEN 'p' THEN 'PARTIAL'
        ELSE 'SIMPLE' END END AS match,
    k.condeferrable AS deferrable,
    k.condeferred AS initially_deferred,
    -- NOT ENFORCED implies not validated: one property is the difference, not two
    k.convalidated OR NOT {conenforced} AS validated,
    {conenforced} AS enforced,
    CASE WHEN k.contype = 'c' THEN k.connoinherit ELSE false END AS no_inherit,
    CASE
        WHEN k.contype = 'c' THEN pg_get_expr(k.conbin, k.conrelid, true)
        WHEN k.contype = 'x' THEN regexp_replace(
            pg_get_constraintdef(k.oid, true),
            '( DEFERRABLE)?( INITIALLY DEFERRED)?( NOT VALID)?( NOT ENFORCED)?$', '')
    END AS expression,
    CASE WHEN i.indnatts > i.indnkeyatts THEN ARRAY(
        SELECT pg_get_indexdef(i.indexrelid, g.k, true)
        FROM generate_series(i.indnkeyatts + 1, i.indnatts) AS g (k)
    ) ELSE ARRAY[]::text[] END AS include,
    coalesce({indnullsnotdistinct}, false) AS nulls_not_distinct,
    {conperiod} AS without_overlaps,
    d.description AS comment
FROM pg_constraint AS k
JOIN pg_class AS t ON t.oid = k.conrelid
JOIN pg_namespace AS n ON n.oid = t.relnamespace
LEFT JOIN pg_class AS ft ON ft.oid = k.confrelid
LEFT JOIN pg_namespace AS fn ON fn.oid = ft.relnamespace
LEFT JOIN pg_index AS i ON i.indexrelid = k.conindid AND k.contype IN ('p', 'u')
LEFT JOIN pg_description AS d
    ON d.objoid = k.oid AND d.classoid = 'pg_constraint'::regclass AND d.objsubid = 0
WHERE k.contype <> 'n' AND k.conparentid = 0
    AND (k.conislocal OR k.contype <> 'c')  -- inherited checks belong to the parent
    AND t.relkind IN ('r', 'p', 'f')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_)'
    AND (cardinality(%(include_schemas)s::text[]) = 0 OR n.nspname = ANY(%(include_schemas)s::text[]))
    AND n.nspname <> ALL(%(exclude_schemas)s::text[])
    -- only: AND t.oid = ANY(%(only)s::oid[])
