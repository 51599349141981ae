CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.updated := now();

            RETURN NEW;
        END;
    $$;
