CREATE VIEW active_users AS SELECT 1 AS id;
