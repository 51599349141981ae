-- The oids each query with an "-- only:" filter could read, by query file: a superset (only
-- the system and TOAST schemas are left out; each query's own filters still apply when it
-- reads them).
-- A kind with nothing to read has no row. catalog/watch.py reads a small catalog this way,
-- so that the queries of the kinds it does not hold are never planned.
WITH user_namespaces AS (
    SELECT n.oid FROM pg_namespace AS n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname !~ '^pg_toast'  -- TOAST tables and their indexes, nothing a query reads
),
listed (query, oid) AS (
    SELECT CASE
               WHEN c.relkind IN ('r', 'p', 'f') THEN 'tables.sql'
               WHEN c.relkind IN ('i', 'I') THEN 'indexes.sql'
               WHEN c.relkind = 'S' THEN 'sequences.sql'
               ELSE 'views.sql'
           END,
           c.oid
    FROM pg_class AS c
    WHERE c.relkind IN ('r', 'p', 'f', 'i', 'I', 'S', 'v', 'm')
        AND c.relnamespace IN (SELECT oid FROM user_namespaces)
    UNION ALL
    SELECT CASE t.typtype
               WHEN 'c' THEN 'composites.sql'
               WHEN 'e' THEN 'enums.sql'
               WHEN 'd' THEN 'domains.sql'
               ELSE 'ranges.sql'
           END,
           t.oid
    FROM pg_type AS t
    WHERE t.typtype IN ('c', 'e', 'd', 'r')
        AND t.typnamespace IN (SELECT oid FROM user_namespaces)
        AND (t.typtype <> 'c'  -- a table's row type is not a composite type of its own
             OR (SELECT c.relkind FROM pg_class AS c WHERE c.oid = t.typrelid) = 'c')
    UNION ALL
    SELECT 'functions.sql', p.oid FROM pg_proc AS p
    WHERE p.pronamespace IN (SELECT oid FROM user_namespaces)
    UNION ALL
    SELECT 'triggers.sql', tg.oid FROM pg_trigger AS tg
    JOIN pg_class AS c ON c.oid = tg.tgrelid
    WHERE c.relnamespace IN (SELECT oid FROM user_namespaces)
    UNION ALL
    SELECT 'policies.sql', p.oid FROM pg_policy AS p
    JOIN pg_class AS c ON c.oid = p.polrelid
    WHERE c.relnamespace IN (SELECT oid FROM user_namespaces)
    UNION ALL
    SELECT 'statistics.sql', s.oid FROM pg_statistic_ext AS s
    WHERE s.stxnamespace IN (SELECT oid FROM user_namespaces)
    UNION ALL
    SELECT 'collations.sql', c.oid FROM pg_collation AS c
    WHERE c.collnamespace IN (SELECT oid FROM user_namespaces)
)
SELECT query, array_agg(oid ORDER BY oid) AS oids
FROM listed
GROUP BY query
