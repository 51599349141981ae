CREATE FUNCTION f(x integer) RETURNS integer LANGUAGE plpgsql SET search_path = pg_catalog AS $$BEGIN RETURN x + 1; END$$;
